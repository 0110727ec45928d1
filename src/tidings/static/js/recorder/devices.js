// Camera, microphone and screen: which sources this browser offers, asking for them, the
// person's choice of device (kept between visits), and what the browser said when it refused.

import { ScreenWithBubble } from "./bubble.js";

export const CHOICE = {
  camera: "tidings.recorder.camera",
  mic: "tidings.recorder.microphone",
};

/** Hide the sources this browser cannot record (no screen sharing on phones). */
export function offerSources(root) {
  const canRecord = !!(navigator.mediaDevices && window.MediaRecorder);
  const canShare = canRecord && !!navigator.mediaDevices.getDisplayMedia;
  for (const item of root.querySelectorAll("[data-source]")) {
    const screen = item.dataset.source.startsWith("screen");
    item.closest("li").hidden = !canRecord || (screen && !canShare);
  }
}

export function mediaProblem(error, what) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError") {
    return (
      `The browser was not allowed to use the ${what}. ` +
      "Allow it in the site settings next to the address bar, then try again."
    );
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return `No ${what} was found. Connect one, or pick another in the list, then try again.`;
  }
  if (name === "NotReadableError" || name === "AbortError") {
    return (
      `The ${what} is busy or blocked by the system. ` +
      "Close other apps that use it, then try again."
    );
  }
  return `The ${what} could not be opened. Reload the page and try again.`;
}

function stopTracks(stream) {
  if (stream) for (const track of stream.getTracks()) track.stop();
}

function playing(stream) {
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  return video.play().then(() => video);
}

function audioConstraints(deviceId) {
  // Clean audio for transcription: no echo cancellation, noise suppression or gain.
  const supported = navigator.mediaDevices.getSupportedConstraints();
  const audio = {};
  for (const key of ["echoCancellation", "noiseSuppression", "autoGainControl"]) {
    if (supported[key]) audio[key] = false;
  }
  if (deviceId) audio.deviceId = { ideal: deviceId };
  return audio;
}

function videoConstraints(deviceId) {
  const video = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
  if (deviceId) video.deviceId = { ideal: deviceId };
  return video;
}

/** The devices one recording uses, from asking for them to letting them go. */
export class Devices {
  /**
   * clockUrl: the worker script that keeps the screen + camera picture drawing;
   * notice(text): say something beside the recorder; onMic(stream): the microphone changed
   * (null when there is none); onScreenEnded(): the person stopped sharing the screen.
   */
  constructor({ clockUrl, notice, onMic, onScreenEnded }) {
    this.clockUrl = clockUrl;
    this.notice = notice;
    this.onMic = onMic;
    this.onScreenEnded = onScreenEnded;
    this.display = null; // the shared screen
    this.camera = null; // camera video track, in a stream
    this.mic = null; // microphone audio track, in a stream
    this.cameraVideo = null;
    this.composite = null;
  }

  /** Ask for what the source needs; throws an Error whose message tells the person why not. */
  async open(source) {
    const wantsCamera = source === "camera" || source === "screen_camera";
    if (source.startsWith("screen")) {
      // Asked first, while the click that chose "Screen" still counts as the person's act.
      try {
        this.display = await navigator.mediaDevices.getDisplayMedia({
          video: { frameRate: { ideal: 30 } },
          audio: false,
        });
      } catch (error) {
        throw new Error(
          error && error.name === "NotAllowedError"
            ? "Screen sharing was cancelled. " +
              "Choose “Record” again to pick a screen, window or tab."
            : mediaProblem(error, "screen"),
        );
      }
      this.display.getVideoTracks()[0].addEventListener("ended", () => this.onScreenEnded());
    }
    const constraints = {
      audio: audioConstraints(localStorage.getItem(CHOICE.mic)),
      video: wantsCamera ? videoConstraints(localStorage.getItem(CHOICE.camera)) : false,
    };
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia(constraints);
    } catch (error) {
      if (source !== "screen") {
        throw new Error(mediaProblem(error, wantsCamera ? "camera or microphone" : "microphone"));
      }
      // A screen recording can go on without a voice; say so.
      const problem = mediaProblem(error, "microphone");
      this.notice(`${problem} Until then the screen is recorded without sound.`);
      return;
    }
    this.mic = new MediaStream(stream.getAudioTracks());
    if (wantsCamera) this.camera = new MediaStream(stream.getVideoTracks());
    this.onMic(this.mic);
    if (source === "screen_camera") {
      const [screenVideo, cameraVideo] = await Promise.all([
        playing(this.display),
        playing(this.camera),
      ]);
      this.cameraVideo = cameraVideo;
      this.composite = new ScreenWithBubble(screenVideo, cameraVideo, this.clockUrl);
    }
  }

  /** The picture the live preview shows for this source (none for audio only). */
  picture(source) {
    if (source === "audio") return null;
    if (source === "camera") return this.camera;
    if (source === "screen") return this.display;
    return this.composite.stream;
  }

  /** What gets recorded: the source's picture and the microphone, if there is one. */
  recordedStream(source) {
    const tracks = [];
    if (source === "camera") tracks.push(...this.camera.getVideoTracks());
    if (source === "screen") tracks.push(...this.display.getVideoTracks());
    if (source === "screen_camera") tracks.push(...this.composite.stream.getVideoTracks());
    if (this.mic) tracks.push(...this.mic.getAudioTracks());
    return new MediaStream(tracks);
  }

  /** Fill the camera and microphone lists, with the ones in use picked. */
  async list(cameraSelect, micSelect) {
    const devices = await navigator.mediaDevices.enumerateDevices();
    const fill = (select, kind, stream, noun) => {
      select.replaceChildren();
      const track = stream && stream.getTracks()[0];
      const current = track ? track.getSettings().deviceId : "";
      let number = 0;
      for (const device of devices.filter((d) => d.kind === kind)) {
        number += 1;
        select.add(new Option(device.label || `${noun} ${number}`, device.deviceId));
      }
      if (current) select.value = current;
      select.disabled = select.options.length < 2;
    };
    fill(cameraSelect, "videoinput", this.camera, "Camera");
    fill(micSelect, "audioinput", this.mic, "Microphone");
  }

  /** Another camera; true when the live picture changed. */
  async switchCamera(deviceId) {
    if (!this.camera) return false;
    stopTracks(this.camera);
    try {
      this.camera = await navigator.mediaDevices.getUserMedia({
        video: videoConstraints(deviceId),
      });
    } catch (error) {
      this.notice(mediaProblem(error, "camera"));
      return false;
    }
    if (this.composite) {
      this.cameraVideo = await playing(this.camera);
      this.composite.setCamera(this.cameraVideo);
    }
    return true;
  }

  async switchMic(deviceId) {
    stopTracks(this.mic);
    try {
      this.mic = await navigator.mediaDevices.getUserMedia({
        audio: audioConstraints(deviceId),
      });
      this.notice("");
    } catch (error) {
      this.mic = null;
      this.notice(mediaProblem(error, "microphone"));
    }
    this.onMic(this.mic);
  }

  /** Stop every device; the browser's "in use" marks go away. */
  release() {
    stopTracks(this.display);
    stopTracks(this.camera);
    stopTracks(this.mic);
    if (this.composite) this.composite.stop();
    this.display = this.camera = this.mic = this.composite = this.cameraVideo = null;
    this.onMic(null);
  }
}
