// The recorder of one composer: what shows at each stage, recording with the browser's
// MediaRecorder, choosing a file, and posting through the composer's own button. The devices,
// the level meter, the review, the upload and the unfinished-recording reminder are in their
// own modules.

import { CHOICE, Devices, offerSources } from "./devices.js";
import { clock, size, spokenLength } from "./format.js";
import { Meter } from "./meter.js";
import { Review } from "./review.js";
import {
  HEARTBEAT_MS,
  dismissUnfinished,
  findUnfinished,
  forget,
  keepPosting,
  remember,
  serverState,
  takePosting,
} from "./unfinished.js";
import { RecordingUpload, addressesOf, postingState, uploadState } from "./upload.js";

const LIMIT_CHOICE = "tidings.recorder.limit";
const TIMESLICE_MS = 1000;
const FILE_PIECE_BYTES = 8 * 1024 * 1024;
const COUNTDOWN_FROM = 3;
const VIDEO_TYPES = [
  "video/webm;codecs=vp9,opus",
  "video/webm;codecs=vp8,opus",
  "video/webm",
  "video/mp4",
];
const AUDIO_TYPES = ["audio/webm;codecs=opus", "audio/mp4"];
// Browsers leave some files' type empty; their name tells.
const MEDIA_EXTENSIONS = /\.(webm|mp4|m4a|m4v|mov|mkv|mp3|ogg|oga|opus|wav|flac|aac)$/i;
const TITLES = {
  camera: "Camera",
  screen: "Screen",
  screen_camera: "Screen + camera",
  audio: "Audio only",
  upload: "Uploaded file",
};
const LIMIT_CHOICES_MIN = [1, 2, 5, 10, 15, 30, 60, 90, 120, 180, 240];

function pickType(types) {
  return types.find((type) => MediaRecorder.isTypeSupported(type)) || "";
}

export class Recorder {
  constructor(root) {
    this.root = root;
    this.form = root.closest("form");
    this.submit = this.form.querySelector("button[type=submit]");
    this.csrfToken = this.form.querySelector("input[name=csrfmiddlewaretoken]").value;
    this.recordingsUrl = root.dataset.recordingsUrl;
    this.$ = (selector) => root.querySelector(selector);
    this.panel = this.$(".recorder-panel");
    this.menu = this.$(".recorder-menu");
    this.live = this.$(".recorder-live");
    this.tokenInput = this.form.querySelector("input[name=recording]");
    this.countInput = this.form.querySelector("input[name=recording_chunks]");
    this.maxSeconds = Number(root.dataset.maxSeconds) || 3600;
    this.maxBytes = Number(root.dataset.maxBytes) || Infinity;

    this.stage = "idle";
    this.source = "";
    this.meter = new Meter(root, () => this.paused);
    this.devices = new Devices({
      clockUrl: root.dataset.clockUrl,
      notice: (text) => this.notice(text),
      onMic: (stream) => this.meter.listenTo(stream),
      onScreenEnded: () => this.screenEnded(),
    });
    this.review = new Review(root, () => !!this.file);
    this.mediaRecorder = null;
    this.upload = null;
    this.attached = null; // a recording held by the server, re-attached after a failed post
    this.pieces = [];
    this.file = null;
    this.elapsedBefore = 0;
    this.resumedAt = 0;
    this.paused = false;
    this.leaving = false;
    this.posting = false;

    offerSources(root);
    this.fillLimits();
    this.bind();
    this.setStage("idle");
    root.hidden = false;
    this.restore();
  }

  // --- wiring ---

  fillLimits() {
    const select = this.$(".recorder-limit");
    const choices = LIMIT_CHOICES_MIN.map((m) => m * 60).filter((s) => s < this.maxSeconds);
    choices.push(this.maxSeconds);
    const stored = Number(localStorage.getItem(LIMIT_CHOICE));
    for (const seconds of choices) {
      const longest = seconds === this.maxSeconds ? " (the longest allowed)" : "";
      select.add(new Option(spokenLength(seconds) + longest, String(seconds)));
    }
    select.value = choices.includes(stored) ? String(stored) : String(this.maxSeconds);
  }

  bind() {
    this.root.addEventListener("click", (event) => {
      const choice = event.target.closest("[data-source]");
      if (choice) {
        this.menu.open = false;
        this.open(choice.dataset.source);
        return;
      }
      const action = event.target.closest("[data-action]");
      if (action && !action.disabled) this.act(action.dataset.action);
    });
    this.menu.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.menu.open) {
        this.menu.open = false;
        this.menu.querySelector("summary").focus();
      }
    });
    this.$(".recorder-file").addEventListener("change", (event) => {
      const file = event.target.files[0];
      event.target.value = "";
      if (file) this.chooseFile(file);
    });
    this.$(".recorder-camera").addEventListener("change", (event) => {
      localStorage.setItem(CHOICE.camera, event.target.value);
      this.switchCamera(event.target.value);
    });
    this.$(".recorder-mic").addEventListener("change", (event) => {
      localStorage.setItem(CHOICE.mic, event.target.value);
      this.switchMic(event.target.value);
    });
    this.$(".recorder-limit").addEventListener("change", (event) => {
      localStorage.setItem(LIMIT_CHOICE, event.target.value);
    });
    this.form.addEventListener("submit", (event) => this.onSubmit(event));
    window.addEventListener("pageshow", (event) => {
      // Back to a page that already posted its recording: start from what the server has.
      if (event.persisted && this.leaving) window.location.reload();
    });
    window.addEventListener("beforeunload", (event) => {
      if (this.leaving) return;
      const busy = ["countdown", "recording"].includes(this.stage);
      if (busy || (this.upload && this.upload.unsaved)) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
  }

  act(action) {
    const handlers = {
      "pick-file": () => {
        this.menu.open = false;
        this.$(".recorder-file").click();
      },
      start: () => this.startCountdown(),
      cancel: () => this.close(),
      pause: () => this.togglePause(),
      stop: () => this.stopRecording(),
      rerecord: () => this.confirmDiscard() && this.rerecord(),
      discard: () => this.confirmDiscard() && this.discard(),
      dismiss: () => {
        dismissUnfinished(this.root);
        this.$(".recorder-menu summary").focus();
      },
    };
    if (handlers[action]) handlers[action]();
  }

  // --- what shows when ---

  isAudioOnly() {
    return (
      this.source === "audio" ||
      (this.source === "upload" && this.file && this.file.type.startsWith("audio/")) ||
      (this.attached && this.attached.audio)
    );
  }

  setStage(stage) {
    this.stage = stage;
    this.panel.hidden = stage === "idle";
    this.panel.dataset.stage = stage;
    const isUpload = this.source === "upload";
    const audioOnly = this.isAudioOnly();
    const needs = {
      video: !audioOnly,
      "audio-only": audioOnly,
      camera: this.source === "camera" || this.source === "screen_camera",
      // Before the devices open the microphone is expected; a screen may go on without one.
      mic: !isUpload && (this.stage === "setup" && !this.devicesOpen ? true : !!this.devices.mic),
      upload: isUpload,
    };
    for (const element of this.root.querySelectorAll("[data-stages]")) {
      const stages = element.dataset.stages.split(" ");
      const need = element.dataset.needs;
      element.hidden = !stages.includes(stage) || (need !== undefined && !needs[need]);
    }
    for (const element of this.root.querySelectorAll("[data-needs]:not([data-stages])")) {
      element.hidden = !needs[element.dataset.needs];
    }
    this.$(".recorder-title").textContent = TITLES[this.source] || "Record";
    this.$("[data-action=rerecord]").textContent = isUpload ? "Choose another file" : "Re-record";
    this.$(".recorder-hint").textContent =
      `Press “${this.submit.textContent.trim()}” to share it; writing a message is optional.`;
    this.live.classList.toggle("is-mirrored", this.source === "camera");
    this.panel.classList.toggle("is-audio", audioOnly);
    this.showUploadState();
  }

  notice(text) {
    const element = this.$(".recorder-notice");
    element.textContent = text || "";
    element.hidden = !text;
  }

  progress(fraction, text) {
    const box = this.$(".recorder-progress");
    box.hidden = fraction === null;
    if (fraction === null) return;
    box.querySelector("progress").value = Math.round(fraction * 100);
    box.querySelector(".recorder-progress-text").textContent = text;
  }

  showUploadState() {
    const element = this.$(".recorder-upload-state");
    const upload = this.upload;
    let text = "";
    let tone = "";
    if (upload && upload.count) {
      [text, tone] = uploadState(upload, { recording: this.stage === "recording" });
      if (upload.error) this.notice(upload.error);
    } else if (this.attached) {
      [text, tone] = ["All saved", "ok"];
    }
    // Only real changes, so screen readers hear each state once.
    if (element.textContent !== text) element.textContent = text;
    element.dataset.tone = tone;
    if (this.source === "upload" && upload && upload.count && !this.posting) {
      const total = this.file ? this.file.size : upload.totalBytes;
      const fraction = total ? upload.savedBytes / total : 1;
      this.progress(
        upload.unsaved ? fraction : null,
        `Uploading: ${Math.floor(fraction * 100)}% of ${size(total)}`,
      );
    }
  }

  // --- opening camera, microphone and screen ---

  async open(source) {
    this.source = source;
    this.devicesOpen = false;
    this.notice("");
    this.showStandalone("");
    this.meter.wake();
    this.setStage("setup");
    const start = this.$("[data-action=start]");
    start.disabled = true;
    try {
      await this.devices.open(source);
    } catch (error) {
      this.release();
      this.setStage("idle");
      this.$(".recorder-menu summary").focus();
      this.showStandalone(error.message);
      return;
    }
    this.devicesOpen = true;
    this.setStage("setup");
    this.showLive();
    await this.devices.list(this.$(".recorder-camera"), this.$(".recorder-mic"));
    start.disabled = false;
    start.focus();
  }

  showLive() {
    const picture = this.devices.picture(this.source);
    if (!picture) return;
    this.live.srcObject = picture;
    this.live.play().catch(() => {});
  }

  async switchCamera(deviceId) {
    if (this.stage !== "setup") return;
    if (await this.devices.switchCamera(deviceId)) this.showLive();
  }

  async switchMic(deviceId) {
    if (this.stage !== "setup") return;
    await this.devices.switchMic(deviceId);
  }

  screenEnded() {
    // The person pressed the browser's own "Stop sharing".
    if (this.stage === "recording") this.stopRecording();
    else if (this.stage === "setup" || this.stage === "countdown") {
      this.close();
      this.showStandalone("Screen sharing stopped. Choose “Record” again to share a screen.");
    }
  }

  release() {
    this.devices.release();
    this.live.srcObject = null;
  }

  // --- recording ---

  async startCountdown() {
    const stream = this.devices.recordedStream(this.source);
    if (!stream.getTracks().length) {
      this.notice("There is nothing to record: allow the microphone, then try again.");
      return;
    }
    const hasVideo = stream.getVideoTracks().length > 0;
    const mimeType = pickType(hasVideo ? VIDEO_TYPES : AUDIO_TYPES);
    try {
      this.mediaRecorder = new MediaRecorder(stream, {
        ...(mimeType ? { mimeType } : {}),
        ...(hasVideo ? { videoBitsPerSecond: 2_500_000 } : {}),
        audioBitsPerSecond: 128_000,
      });
    } catch {
      this.notice(
        "This browser cannot record this kind of media. Try another browser, or upload a file.",
      );
      return;
    }
    this.limitSeconds = Number(this.$(".recorder-limit").value) || this.maxSeconds;
    this.pieces = [];
    this.notice("");
    this.setStage("countdown");
    this.$("[data-action=cancel]").focus();
    this.beginUpload({
      source: this.source,
      mime_type: this.mediaRecorder.mimeType || mimeType,
    }).catch(() => {}); // beginUpload has said what went wrong
    const counter = this.$(".recorder-countdown");
    for (let n = COUNTDOWN_FROM; n > 0; n -= 1) {
      counter.textContent = String(n);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (this.stage !== "countdown") return; // cancelled
    }
    counter.textContent = "";
    if (this.upload && !this.upload.error) this.record();
  }

  beginUpload(fields) {
    const upload = new RecordingUpload({
      recordingsUrl: this.recordingsUrl,
      csrfToken: this.csrfToken,
    });
    this.upload = upload;
    upload.addEventListener("change", () => {
      if (upload !== this.upload) return;
      this.showUploadState();
      // The server refused a piece (too large, gone): recording on would be lost work.
      if (upload.error && this.stage === "recording") this.stopRecording();
    });
    const where = this.root.dataset.threadId
      ? { thread_id: Number(this.root.dataset.threadId) }
      : { space_id: Number(this.root.dataset.spaceId) };
    return upload.start({ ...where, ...fields }).then(
      (info) => {
        if (upload.closed) {
          // Cancelled while the server was answering.
          upload.discard();
          return info;
        }
        const person = this.root.dataset.person;
        remember({ token: info.token, person });
        this.heartbeat = setInterval(() => {
          if (upload === this.upload && !upload.closed) remember({ token: upload.token });
          else clearInterval(this.heartbeat);
        }, HEARTBEAT_MS);
        return info;
      },
      (error) => {
        upload.fail(error.message);
        if (upload === this.upload) {
          this.upload = null;
          this.abandon();
          this.showStandalone(error.message);
        }
        throw error;
      },
    );
  }

  record() {
    const recorder = this.mediaRecorder;
    let index = 0;
    recorder.addEventListener("dataavailable", (event) => {
      if (!event.data || !event.data.size || recorder !== this.mediaRecorder) return;
      this.pieces.push(event.data);
      this.upload.add(index, event.data);
      index += 1;
    });
    this.stopped = new Promise((resolve) => {
      recorder.addEventListener("stop", resolve, { once: true });
    });
    const endHere = (why) => {
      if (this.stage !== "recording") return;
      this.stopRecording().then(() => this.notice(`${why}, so the recording ends here.`));
    };
    recorder.addEventListener("error", () => endHere("The browser's recorder failed"));
    for (const stream of [this.devices.camera, this.devices.mic]) {
      for (const track of stream ? stream.getTracks() : []) {
        track.addEventListener("ended", () =>
          endHere("The camera or microphone stopped (unplugged, or taken by another app)"),
        );
      }
    }
    recorder.start(TIMESLICE_MS);
    this.elapsedBefore = 0;
    this.resumedAt = performance.now();
    this.paused = false;
    this.setStage("recording");
    this.$("[data-action=stop]").focus();
    this.tick();
    this.ticker = setInterval(() => this.tick(), 250);
  }

  elapsed() {
    return this.elapsedBefore + (this.paused ? 0 : performance.now() - this.resumedAt);
  }

  tick() {
    const ms = this.elapsed();
    this.$(".recorder-timer").textContent = `${clock(ms)} / ${clock(this.limitSeconds * 1000)}`;
    if (ms >= this.limitSeconds * 1000) {
      const limit = spokenLength(this.limitSeconds);
      this.stopRecording().then(() => {
        this.notice(
          this.limitSeconds === this.maxSeconds
            ? `Recording stopped at ${limit}, the longest a recording may be.`
            : `Recording stopped at the ${limit} limit you chose.`,
        );
      });
    }
  }

  togglePause() {
    const button = this.$("[data-action=pause]");
    if (this.paused) {
      this.mediaRecorder.resume();
      this.resumedAt = performance.now();
      this.paused = false;
    } else {
      this.mediaRecorder.pause();
      this.elapsedBefore += performance.now() - this.resumedAt;
      this.paused = true;
    }
    button.textContent = this.paused ? "Resume" : "Pause";
    this.$(".recorder-rec").classList.toggle("is-paused", this.paused);
    this.$(".recorder-rec-label").textContent = this.paused ? "Paused" : "Recording";
    this.tick();
  }

  async stopRecording() {
    if (this.stage !== "recording") return;
    clearInterval(this.ticker);
    this.durationMs = this.elapsed();
    this.paused = false;
    this.mediaRecorder.stop();
    this.stage = "stopping";
    await this.stopped;
    this.release();
    this.showReview();
  }

  showReview() {
    const type = this.mediaRecorder ? this.mediaRecorder.mimeType : "";
    const blob = this.file || new Blob(this.pieces, { type });
    this.setPreview(URL.createObjectURL(blob));
    // A file's length is known once the player has read it (the review reveals it).
    this.$(".recorder-timer").textContent = this.file ? "" : clock(this.durationMs || 0);
    this.setStage("review");
    this.resetPauseButton();
    this.review.focus();
  }

  setPreview(url) {
    const audio =
      this.source === "audio" ||
      (this.file && this.file.type.startsWith("audio/")) ||
      (this.attached && this.attached.audio);
    this.review.show(url, { audio });
  }

  resetPauseButton() {
    const button = this.$("[data-action=pause]");
    button.textContent = "Pause";
    this.$(".recorder-rec").classList.remove("is-paused");
    this.$(".recorder-rec-label").textContent = "Recording";
  }

  abandon() {
    // Stop whatever is running without keeping it.
    clearInterval(this.ticker);
    if (this.mediaRecorder && this.mediaRecorder.state !== "inactive") this.mediaRecorder.stop();
    this.mediaRecorder = null;
    this.release();
    this.setStage("idle");
    this.resetPauseButton();
  }

  async close() {
    const upload = this.upload;
    this.upload = null;
    this.abandon();
    this.notice("");
    this.$(".recorder-menu summary").focus();
    if (upload) await this.drop(upload);
  }

  async drop(upload) {
    clearInterval(this.heartbeat);
    await upload.discard();
    if (upload.token) forget(upload.token);
  }

  rerecord() {
    const source = this.source;
    // Opened at once, while the click still lets the page ask for a screen or a file.
    this.discard({ quiet: true });
    if (source === "upload") this.$(".recorder-file").click();
    else this.open(source);
  }

  confirmDiscard() {
    // A file is still on the person's disk; a recording exists nowhere else.
    if (this.source === "upload") return true;
    return window.confirm("Discard this recording? It cannot be brought back.");
  }

  async discard({ quiet = false } = {}) {
    const upload = this.upload;
    const attached = this.attached;
    this.upload = null;
    this.attached = null;
    this.file = null;
    this.pieces = [];
    this.setPreview("");
    this.detach();
    this.progress(null);
    this.abandon();
    if (!quiet) {
      this.notice("");
      this.$(".recorder-menu summary").focus();
    }
    if (upload) await this.drop(upload);
    if (attached) {
      const held = new RecordingUpload({
        recordingsUrl: this.recordingsUrl,
        csrfToken: this.csrfToken,
      });
      await held.adopt(attached).discard();
      forget(attached.token);
    }
  }

  // --- an uploaded file ---

  chooseFile(file) {
    this.showStandalone("");
    const looksLikeMedia = /^(audio|video)\//.test(file.type) || MEDIA_EXTENSIONS.test(file.name);
    if (!looksLikeMedia) {
      this.showStandalone(
        `“${file.name}” is not an audio or video file. Choose a recording to upload.`,
      );
      return;
    }
    if (file.size > this.maxBytes) {
      this.showStandalone(
        `“${file.name}” is ${size(file.size)}; files up to ${size(this.maxBytes)} ` +
          "can be uploaded. Trim it or choose a shorter one.",
      );
      return;
    }
    if (!file.size) {
      this.showStandalone(`“${file.name}” is empty. Choose another file.`);
      return;
    }
    this.source = "upload";
    this.file = file;
    this.durationMs = 0;
    this.notice("");
    this.$(".recorder-file-info").textContent = `${file.name} · ${size(file.size)}`;
    this.showReview();
    this.beginUpload({
      source: "upload",
      original_name: file.name,
      size: file.size,
      mime_type: file.type,
    }).then(
      (info) => {
        const piece = Math.min(FILE_PIECE_BYTES, info.max_chunk_bytes || FILE_PIECE_BYTES);
        let index = 0;
        for (let offset = 0; offset < file.size; offset += piece) {
          this.upload.add(index, file.slice(offset, offset + piece));
          index += 1;
        }
      },
      () => this.discard({ quiet: true }),
    );
  }

  showStandalone(text) {
    // A notice while the panel is closed shows in the bar beside "Record".
    const element = this.$(".recorder-message");
    element.textContent = text;
    element.hidden = !text;
  }

  // --- posting through the composer's own button ---

  attach(token, count) {
    this.tokenInput.value = token;
    this.countInput.value = String(count);
    this.tokenInput.disabled = this.countInput.disabled = false;
  }

  detach() {
    this.tokenInput.value = this.countInput.value = "";
    this.tokenInput.disabled = this.countInput.disabled = true;
  }

  async onSubmit(event) {
    if (this.leaving) return;
    if (this.posting) {
      event.preventDefault();
      return;
    }
    if (this.attached && !this.upload) {
      this.attach(this.attached.token, this.attached.count);
      keepPosting(this.attached);
      this.leave();
      return;
    }
    if (this.stage === "setup" || this.stage === "countdown") {
      // Posting the text while the recorder only waits to start: nothing was recorded.
      this.close();
      this.leave();
      return;
    }
    if (!this.upload || !["recording", "stopping", "review"].includes(this.stage)) return;
    event.preventDefault();
    // The button pressed says where the post goes ("Schedule", "deliver in working hours").
    const submitter = event.submitter;
    this.posting = true;
    this.submit.disabled = true;
    if (this.stage === "recording") await this.stopRecording();
    else if (this.stage === "stopping") await this.stopped;
    const upload = this.upload;
    const report = () => this.progress(...postingState(upload, { file: this.file }));
    upload.addEventListener("change", report);
    report();
    try {
      const count = await upload.finish();
      this.attach(upload.token, count);
    } catch (error) {
      this.notice(error.message);
      this.posting = false;
      this.submit.disabled = false;
      this.progress(null);
      return;
    } finally {
      upload.removeEventListener("change", report);
    }
    keepPosting({
      form: this.form.action,
      token: upload.token,
      count: upload.count,
      source: this.source,
      audio: this.review.audioShown,
      durationMs: this.durationMs || 0,
    });
    this.progress(1, "Posting…");
    this.leave();
    this.submit.disabled = false; // a disabled submitter would send the form without it
    if (submitter) this.form.requestSubmit(submitter);
    else this.form.requestSubmit();
  }

  leave() {
    this.leaving = true;
  }

  // --- after a reload: a failed post, or a recording another tab left behind ---

  async restore() {
    const posting = takePosting();
    let kept = "";
    if (posting && posting.form === this.form.action) {
      const status = await serverState(addressesOf(this.recordingsUrl, posting.token).chunksUrl);
      if (status && status.state === "recording") {
        kept = posting.token;
        this.reattach(posting);
      }
    }
    findUnfinished(this.root, kept, () => !!this.upload);
  }

  async reattach(posting) {
    this.attached = posting;
    this.source = posting.source;
    this.durationMs = posting.durationMs;
    this.$(".recorder-timer").textContent = clock(posting.durationMs);
    this.$(".recorder-file-info").textContent = "";
    this.setStage("review");
    this.notice("Your recording is still attached: fix what is marked above, then post again.");
    try {
      const response = await fetch(addressesOf(this.recordingsUrl, posting.token).url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const playable = response.ok ? (await response.json()).media.playable : "";
      if (playable && this.attached === posting) this.setPreview(playable);
    } catch {
      // Without a preview the recording is still attached and posts the same.
    }
  }
}
