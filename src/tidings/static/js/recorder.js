// The recorder in the thread and reply composers: camera, screen, screen + camera or audio,
// or an uploaded file. Pieces go to the server while the person records (recording-upload.js),
// so posting only waits for the last second of media.
(() => {
  const { RecordingUpload } = window.TidingsRecordingUpload;

  const CHOICE = {
    camera: "tidings.recorder.camera",
    mic: "tidings.recorder.microphone",
    limit: "tidings.recorder.limit",
  };
  // Recordings started in this browser and not posted yet:
  // [{token, person, chunksUrl, startedAt, seenAt}]; seenAt is refreshed while a tab works
  // on it, person keeps one person's reminders from another's on a shared computer.
  const UNFINISHED = "tidings.recordings.unfinished";
  // The recording this tab is posting; if the post comes back with an error it is re-attached.
  const POSTING = "tidings.recordings.posting";
  const HEARTBEAT_MS = 15_000;

  const TIMESLICE_MS = 1000;
  const FILE_PIECE_BYTES = 8 * 1024 * 1024;
  const COUNTDOWN_FROM = 3;
  const SILENCE_HINT_MS = 4000;
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
  const FRAME_MS = 1000 / 30;

  // --- small pieces ---------------------------------------------------------------------

  function clock(ms) {
    const total = Math.floor(ms / 1000);
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = String(total % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
  }

  function spokenLength(seconds) {
    if (seconds < 60) return `${seconds} seconds`;
    const minutes = Math.round(seconds / 60);
    if (minutes < 60 || minutes % 60) return minutes === 1 ? "1 minute" : `${minutes} minutes`;
    return minutes === 60 ? "1 hour" : `${minutes / 60} hours`;
  }

  function size(bytes) {
    if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
    if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
    return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  }

  function when(iso) {
    const date = new Date(iso);
    const time = date.toLocaleTimeString(undefined, {
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    if (date.toDateString() === new Date().toDateString()) return `today at ${time}`;
    const day = date.toLocaleDateString(undefined, {
      weekday: "short",
      month: "short",
      day: "numeric",
    });
    return `${day} at ${time}`;
  }

  function readJSON(storage, key, fallback) {
    try {
      const value = JSON.parse(storage.getItem(key));
      return value ?? fallback;
    } catch {
      return fallback;
    }
  }

  function writeJSON(storage, key, value) {
    try {
      if (value === null) storage.removeItem(key);
      else storage.setItem(key, JSON.stringify(value));
    } catch {
      // Storage full or disabled: only the crash notice is lost.
    }
  }

  function remember(entry) {
    const list = readJSON(localStorage, UNFINISHED, []);
    const old = list.find((e) => e.token === entry.token) || {};
    const others = list.filter((e) => e.token !== entry.token);
    const now = new Date().toISOString();
    const updated = { ...old, startedAt: now, ...entry, seenAt: now };
    writeJSON(localStorage, UNFINISHED, [...others, updated].slice(-10));
  }

  function forget(token) {
    const list = readJSON(localStorage, UNFINISHED, []);
    writeJSON(localStorage, UNFINISHED, list.filter((e) => e.token !== token));
  }

  async function serverState(chunksUrl) {
    // {state, received} from the server; {state: null} when the recording is gone
    // (discarded, or not this person's); null when the server did not answer.
    try {
      const response = await fetch(chunksUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.status === 404) return { state: null };
      if (!response.ok) return null;
      return await response.json();
    } catch {
      return null;
    }
  }

  function pickType(types) {
    return types.find((type) => MediaRecorder.isTypeSupported(type)) || "";
  }

  function mediaProblem(error, what) {
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

  // --- the screen with a round camera bubble, drawn on a canvas ----------------------------

  class ScreenWithBubble {
    constructor(screenVideo, cameraVideo, clockUrl) {
      this.screen = screenVideo;
      this.camera = cameraVideo;
      const scale = Math.min(1, 1920 / (screenVideo.videoWidth || 1280));
      this.canvas = document.createElement("canvas");
      // Even sizes: video encoders refuse odd ones.
      this.canvas.width = 2 * Math.round(((screenVideo.videoWidth || 1280) * scale) / 2);
      this.canvas.height = 2 * Math.round(((screenVideo.videoHeight || 720) * scale) / 2);
      this.context = this.canvas.getContext("2d");
      this.stream = this.canvas.captureStream(30);
      this.running = true;
      this.frame = 0;
      // While the tab is hidden requestAnimationFrame stops: a worker's clock keeps drawing.
      this.clock = new Worker(clockUrl);
      this.clock.onmessage = () => {
        if (document.hidden) this.draw();
      };
      this.clock.postMessage(FRAME_MS);
      const loop = () => {
        if (!this.running) return;
        if (!document.hidden) this.draw();
        this.frame = requestAnimationFrame(loop);
      };
      loop();
    }

    setCamera(video) {
      this.camera = video;
    }

    draw() {
      const { width, height } = this.canvas;
      const ctx = this.context;
      ctx.drawImage(this.screen, 0, 0, width, height);
      const camera = this.camera;
      if (!camera || !camera.videoWidth) return;
      const diameter = Math.round(Math.min(width, height) * 0.26);
      const margin = Math.round(diameter * 0.12);
      const x = width - diameter - margin;
      const y = height - diameter - margin;
      // The middle square of the camera picture fills the bubble.
      const side = Math.min(camera.videoWidth, camera.videoHeight);
      const sx = (camera.videoWidth - side) / 2;
      const sy = (camera.videoHeight - side) / 2;
      ctx.save();
      ctx.beginPath();
      ctx.arc(x + diameter / 2, y + diameter / 2, diameter / 2, 0, 2 * Math.PI);
      ctx.closePath();
      ctx.clip();
      ctx.drawImage(camera, sx, sy, side, side, x, y, diameter, diameter);
      ctx.restore();
      ctx.lineWidth = Math.max(2, Math.round(diameter / 40));
      ctx.strokeStyle = "rgba(255, 255, 255, 0.9)";
      ctx.beginPath();
      ctx.arc(x + diameter / 2, y + diameter / 2, diameter / 2, 0, 2 * Math.PI);
      ctx.stroke();
    }

    stop() {
      this.running = false;
      cancelAnimationFrame(this.frame);
      this.clock.terminate();
      stopTracks(this.stream);
    }
  }

  // --- the recorder of one composer --------------------------------------------------------

  class Recorder {
    constructor(root) {
      this.root = root;
      this.form = root.closest("form");
      this.submit = this.form.querySelector("button[type=submit]");
      this.csrfToken = this.form.querySelector("input[name=csrfmiddlewaretoken]").value;
      this.$ = (selector) => root.querySelector(selector);
      this.panel = this.$(".recorder-panel");
      this.menu = this.$(".recorder-menu");
      this.live = this.$(".recorder-live");
      this.reviewVideo = this.$(".recorder-review");
      this.reviewAudio = this.$(".recorder-review-audio");
      this.tokenInput = this.form.querySelector("input[name=recording]");
      this.countInput = this.form.querySelector("input[name=recording_chunks]");
      this.maxSeconds = Number(root.dataset.maxSeconds) || 3600;
      this.maxBytes = Number(root.dataset.maxBytes) || Infinity;

      this.stage = "idle";
      this.source = "";
      this.display = null; // the shared screen
      this.camera = null; // camera video track, in a stream
      this.mic = null; // microphone audio track, in a stream
      this.cameraVideo = null;
      this.composite = null;
      this.mediaRecorder = null;
      this.upload = null;
      this.attached = null; // a recording held by the server, re-attached after a failed post
      this.pieces = [];
      this.file = null;
      this.previewUrl = "";
      this.elapsedBefore = 0;
      this.resumedAt = 0;
      this.paused = false;
      this.leaving = false;
      this.posting = false;
      this.audioContext = null;
      this.meterSource = null;
      this.silentSince = 0;

      this.offerSources();
      this.fillLimits();
      this.bind();
      this.setStage("idle");
      root.hidden = false;
      this.restore();
    }

    // --- wiring ---

    offerSources() {
      const canRecord = !!(navigator.mediaDevices && window.MediaRecorder);
      const canShare = canRecord && !!navigator.mediaDevices.getDisplayMedia;
      for (const item of this.root.querySelectorAll("[data-source]")) {
        const screen = item.dataset.source.startsWith("screen");
        item.closest("li").hidden = !canRecord || (screen && !canShare);
      }
    }

    fillLimits() {
      const select = this.$(".recorder-limit");
      const choices = LIMIT_CHOICES_MIN.map((m) => m * 60).filter((s) => s < this.maxSeconds);
      choices.push(this.maxSeconds);
      const stored = Number(localStorage.getItem(CHOICE.limit));
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
        localStorage.setItem(CHOICE.limit, event.target.value);
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
      for (const media of [this.reviewVideo, this.reviewAudio]) {
        media.addEventListener("loadedmetadata", () => this.revealDuration(media));
      }
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
        dismiss: () => this.dismissUnfinished(),
      };
      if (handlers[action]) handlers[action]();
    }

    // --- what shows when ---

    setStage(stage) {
      this.stage = stage;
      this.panel.hidden = stage === "idle";
      this.panel.dataset.stage = stage;
      const isUpload = this.source === "upload";
      const fileIsAudio = isUpload && this.file && this.file.type.startsWith("audio/");
      const reattachedAudio = this.attached && this.attached.audio;
      const audioOnly = this.source === "audio" || fileIsAudio || reattachedAudio;
      const needs = {
        video: !audioOnly,
        "audio-only": audioOnly,
        camera: this.source === "camera" || this.source === "screen_camera",
        // Before the devices open the microphone is expected; a screen may go on without one.
        mic: !isUpload && (this.stage === "setup" && !this.devicesOpen ? true : !!this.mic),
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
        const state = upload.state;
        if (state === "failed") [text, tone] = ["Not saved", "bad"];
        else if (state === "offline") [text, tone] = ["Offline — will resume", "warn"];
        else if (state === "retrying") {
          [text, tone] = [`Retrying ${this.piecesLabel(upload.unsaved)}…`, "warn"];
        }
        // While recording, the one piece on its way each second is not worth a flicker.
        else if (state === "saving" && !(this.stage === "recording" && upload.unsaved < 2)) {
          [text, tone] = [`Saving ${this.piecesLabel(upload.unsaved)}…`, ""];
        } else [text, tone] = ["All saved", "ok"];
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

    piecesLabel(count) {
      return count === 1 ? "1 piece" : `${count} pieces`;
    }

    // --- opening camera, microphone and screen ---

    audioConstraints(deviceId) {
      // Clean audio for transcription: no echo cancellation, noise suppression or gain.
      const supported = navigator.mediaDevices.getSupportedConstraints();
      const audio = {};
      for (const key of ["echoCancellation", "noiseSuppression", "autoGainControl"]) {
        if (supported[key]) audio[key] = false;
      }
      if (deviceId) audio.deviceId = { ideal: deviceId };
      return audio;
    }

    videoConstraints(deviceId) {
      const video = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
      if (deviceId) video.deviceId = { ideal: deviceId };
      return video;
    }

    async open(source) {
      this.source = source;
      this.devicesOpen = false;
      this.notice("");
      this.showStandalone("");
      this.ensureAudioContext();
      this.setStage("setup");
      const start = this.$("[data-action=start]");
      start.disabled = true;
      try {
        await this.openDevices();
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
      await this.listDevices();
      start.disabled = false;
      start.focus();
    }

    async openDevices() {
      const source = this.source;
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
        this.display.getVideoTracks()[0].addEventListener("ended", () => this.screenEnded());
      }
      const constraints = {
        audio: this.audioConstraints(localStorage.getItem(CHOICE.mic)),
        video: wantsCamera ? this.videoConstraints(localStorage.getItem(CHOICE.camera)) : false,
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
      this.listenTo(this.mic);
      if (source === "screen_camera") {
        const [screenVideo, cameraVideo] = await Promise.all([
          playing(this.display),
          playing(this.camera),
        ]);
        this.cameraVideo = cameraVideo;
        this.composite = new ScreenWithBubble(screenVideo, cameraVideo, this.root.dataset.clockUrl);
      }
    }

    showLive() {
      if (this.source === "audio") return;
      let picture;
      if (this.source === "camera") picture = this.camera;
      else if (this.source === "screen") picture = this.display;
      else picture = this.composite.stream;
      this.live.srcObject = picture;
      this.live.play().catch(() => {});
    }

    async listDevices() {
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
      fill(this.$(".recorder-camera"), "videoinput", this.camera, "Camera");
      fill(this.$(".recorder-mic"), "audioinput", this.mic, "Microphone");
    }

    async switchCamera(deviceId) {
      if (!this.camera || this.stage !== "setup") return;
      stopTracks(this.camera);
      try {
        this.camera = await navigator.mediaDevices.getUserMedia({
          video: this.videoConstraints(deviceId),
        });
      } catch (error) {
        this.notice(mediaProblem(error, "camera"));
        return;
      }
      if (this.composite) {
        this.cameraVideo = await playing(this.camera);
        this.composite.setCamera(this.cameraVideo);
      }
      this.showLive();
    }

    async switchMic(deviceId) {
      if (this.stage !== "setup") return;
      stopTracks(this.mic);
      try {
        this.mic = await navigator.mediaDevices.getUserMedia({
          audio: this.audioConstraints(deviceId),
        });
        this.notice("");
      } catch (error) {
        this.mic = null;
        this.notice(mediaProblem(error, "microphone"));
      }
      this.listenTo(this.mic);
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
      stopTracks(this.display);
      stopTracks(this.camera);
      stopTracks(this.mic);
      if (this.composite) this.composite.stop();
      this.display = this.camera = this.mic = this.composite = this.cameraVideo = null;
      this.live.srcObject = null;
      this.listenTo(null);
    }

    // --- the microphone level ---

    ensureAudioContext() {
      if (!this.audioContext && window.AudioContext) {
        // Made inside the click, so the browser lets it run.
        this.audioContext = new AudioContext();
        this.analyser = this.audioContext.createAnalyser();
        this.analyser.fftSize = 1024;
        this.samples = new Float32Array(this.analyser.fftSize);
      }
      if (this.audioContext && this.audioContext.state === "suspended") this.audioContext.resume();
    }

    listenTo(stream) {
      if (this.meterSource) this.meterSource.disconnect();
      this.meterSource = null;
      this.silentSince = performance.now();
      if (!stream || !this.audioContext || !stream.getAudioTracks().length) return;
      this.meterSource = this.audioContext.createMediaStreamSource(stream);
      this.meterSource.connect(this.analyser);
      if (!this.metering) this.meter();
    }

    meter() {
      this.metering = true;
      const bar = this.$(".recorder-level-bar");
      const track = this.$(".recorder-level-track");
      const voice = this.$(".recorder-voice-ring");
      const hint = this.$(".recorder-level-hint");
      let lastSpoken = 0;
      const step = (now) => {
        if (!this.meterSource) {
          this.metering = false;
          bar.style.clipPath = "inset(0 100% 0 0)";
          hint.hidden = true;
          return;
        }
        this.analyser.getFloatTimeDomainData(this.samples);
        let sum = 0;
        for (const sample of this.samples) sum += sample * sample;
        const rms = Math.sqrt(sum / this.samples.length);
        // -60 dB (silence) to 0 dB (full scale) onto 0..1.
        const level = Math.min(1, Math.max(0, (20 * Math.log10(rms || 1e-8) + 60) / 60));
        bar.style.clipPath = `inset(0 ${(100 - level * 100).toFixed(1)}% 0 0)`;
        voice.style.transform = `scale(${(1 + level * 0.6).toFixed(3)})`;
        if (level > 0.15) this.silentSince = now;
        hint.hidden = this.paused || now - this.silentSince < SILENCE_HINT_MS;
        if (now - lastSpoken > 500) {
          track.setAttribute("aria-valuenow", String(Math.round(level * 100)));
          lastSpoken = now;
        }
        requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    }

    // --- recording ---

    recordedStream() {
      const tracks = [];
      if (this.source === "camera") tracks.push(...this.camera.getVideoTracks());
      if (this.source === "screen") tracks.push(...this.display.getVideoTracks());
      if (this.source === "screen_camera") tracks.push(...this.composite.stream.getVideoTracks());
      if (this.mic) tracks.push(...this.mic.getAudioTracks());
      return new MediaStream(tracks);
    }

    async startCountdown() {
      const stream = this.recordedStream();
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
        startUrl: this.root.dataset.startUrl,
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
          remember({ token: info.token, person, chunksUrl: info.chunks_url });
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
      for (const stream of [this.camera, this.mic]) {
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
      // A file's length is known once the player has read it (revealDuration).
      this.$(".recorder-timer").textContent = this.file ? "" : clock(this.durationMs || 0);
      this.setStage("review");
      this.resetPauseButton();
      this.focusReview();
    }

    setPreview(url) {
      if (this.previewUrl.startsWith("blob:")) URL.revokeObjectURL(this.previewUrl);
      this.previewUrl = url;
      this.reviewVideo.removeAttribute("src");
      this.reviewAudio.removeAttribute("src");
      if (!url) return;
      const audio =
        this.source === "audio" ||
        (this.file && this.file.type.startsWith("audio/")) ||
        (this.attached && this.attached.audio);
      (audio ? this.reviewAudio : this.reviewVideo).src = url;
    }

    revealDuration(media) {
      if (this.file && Number.isFinite(media.duration)) {
        this.$(".recorder-timer").textContent = clock(media.duration * 1000);
      }
      // The browser's recorder writes no duration: seeking to the end makes the player find
      // it, so the preview's bar can be scrubbed.
      if (media.duration !== Infinity) return;
      media.addEventListener("durationchange", () => (media.currentTime = 0), { once: true });
      media.currentTime = Number.MAX_SAFE_INTEGER;
    }

    focusReview() {
      const media = this.reviewVideo.hidden ? this.reviewAudio : this.reviewVideo;
      media.focus();
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
        const held = new RecordingUpload({ startUrl: "", csrfToken: this.csrfToken });
        await held.adopt(attached).discard();
        forget(attached.token);
      }
    }

    // --- an uploaded file ---

    chooseFile(file) {
      this.showStandalone("");
      const looksLikeMedia =
        /^(audio|video)\//.test(file.type) || MEDIA_EXTENSIONS.test(file.name);
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
        writeJSON(sessionStorage, POSTING, this.attached);
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
      const report = () => {
        const total = upload.totalBytes || 1;
        const left = upload.unsaved;
        const fraction = upload.savedBytes / total;
        let text = "Posting…";
        if (upload.state === "offline") {
          text = "Offline: the post goes out as soon as the connection is back.";
        } else if (left && this.file) {
          text = `Uploading: ${Math.floor(fraction * 100)}%; it posts when the upload is done.`;
        } else if (left) {
          text = `Saving the last ${this.piecesLabel(left)} before posting…`;
        }
        this.progress(fraction, text);
      };
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
      writeJSON(sessionStorage, POSTING, {
        form: this.form.action,
        ...upload.addresses,
        count: upload.count,
        source: this.source,
        audio: !this.reviewAudio.hidden,
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
      const posting = readJSON(sessionStorage, POSTING, null);
      writeJSON(sessionStorage, POSTING, null);
      let kept = "";
      if (posting && posting.form === this.form.action) {
        const status = await serverState(posting.chunksUrl);
        if (status && status.state === "recording") {
          kept = posting.token;
          this.reattach(posting);
        }
      }
      this.findUnfinished(kept);
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
        const response = await fetch(posting.statusUrl, { credentials: "same-origin" });
        const status = response.ok ? await response.json() : {};
        if (status.playable_url && this.attached === posting) this.setPreview(status.playable_url);
      } catch {
        // Without a preview the recording is still attached and posts the same.
      }
    }

    async findUnfinished(kept) {
      // Another open tab may still be recording: only what no tab touched lately counts,
      // by the same measure as the library's list of unfinished recordings.
      const quiet = Date.now() - (Number(this.root.dataset.unfinishedAfterMs) || 120_000);
      const list = readJSON(localStorage, UNFINISHED, []).filter(
        (e) =>
          e.token !== kept &&
          e.person === this.root.dataset.person &&
          e.chunksUrl &&
          Date.parse(e.seenAt) < quiet,
      );
      let newest = null;
      for (const entry of list) {
        const status = await serverState(entry.chunksUrl);
        if (!status) continue; // the server did not answer: ask again on the next page
        if (status.state !== "recording" || !status.received || !status.received.length) {
          forget(entry.token);
        } else if (!newest || entry.startedAt > newest.startedAt) {
          newest = entry;
        }
      }
      if (!newest || this.upload) return;
      const box = this.$(".recorder-unfinished");
      box.dataset.token = newest.token;
      box.querySelector("time").dateTime = newest.startedAt;
      box.querySelector("time").textContent = when(newest.startedAt);
      box.hidden = false;
    }

    dismissUnfinished() {
      const box = this.$(".recorder-unfinished");
      // It stays in the library; this browser just stops reminding.
      forget(box.dataset.token);
      box.hidden = true;
      this.$(".recorder-menu summary").focus();
    }
  }

  for (const root of document.querySelectorAll("[data-recorder]")) new Recorder(root);
})();
