// The recording played back before posting: in a video player, or an audio player for sound
// only, with a bar that can be scrubbed.

import { clock } from "./format.js";

export class Review {
  /** isFile(): whether the recording under review is an uploaded file. */
  constructor(root, isFile) {
    this.video = root.querySelector(".recorder-review");
    this.audio = root.querySelector(".recorder-review-audio");
    this.timer = root.querySelector(".recorder-timer");
    this.isFile = isFile;
    this.url = "";
    for (const media of [this.video, this.audio]) {
      media.addEventListener("loadedmetadata", () => this.revealDuration(media));
    }
  }

  /** Play this address (a blob of the recording, or the server's copy); "" empties both. */
  show(url, { audio }) {
    if (this.url.startsWith("blob:")) URL.revokeObjectURL(this.url);
    this.url = url;
    this.video.removeAttribute("src");
    this.audio.removeAttribute("src");
    if (!url) return;
    (audio ? this.audio : this.video).src = url;
  }

  /** Whether the audio player is the one on show. */
  get audioShown() {
    return !this.audio.hidden;
  }

  focus() {
    const media = this.video.hidden ? this.audio : this.video;
    media.focus();
  }

  revealDuration(media) {
    if (this.isFile() && Number.isFinite(media.duration)) {
      this.timer.textContent = clock(media.duration * 1000);
    }
    // The browser's recorder writes no duration: seeking to the end makes the player find
    // it, so the preview's bar can be scrubbed.
    if (media.duration !== Infinity) return;
    media.addEventListener("durationchange", () => (media.currentTime = 0), { once: true });
    media.currentTime = Number.MAX_SAFE_INTEGER;
  }
}
