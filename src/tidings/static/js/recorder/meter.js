// The microphone level: a bar (and the voice ring of an audio recording) that moves with the
// sound, and a hint when the microphone stays silent.

const SILENCE_HINT_MS = 4000;

export class Meter {
  /** isPaused: whether the recording is paused (silence is then expected, no hint). */
  constructor(root, isPaused) {
    this.bar = root.querySelector(".recorder-level-bar");
    this.track = root.querySelector(".recorder-level-track");
    this.voice = root.querySelector(".recorder-voice-ring");
    this.hint = root.querySelector(".recorder-level-hint");
    this.isPaused = isPaused;
    this.audioContext = null;
    this.source = null;
    this.silentSince = 0;
    this.metering = false;
  }

  /** Called inside the person's click, so the browser lets the audio context run. */
  wake() {
    if (!this.audioContext && window.AudioContext) {
      this.audioContext = new AudioContext();
      this.analyser = this.audioContext.createAnalyser();
      this.analyser.fftSize = 1024;
      this.samples = new Float32Array(this.analyser.fftSize);
    }
    if (this.audioContext && this.audioContext.state === "suspended") this.audioContext.resume();
  }

  /** Show the level of this stream's sound; null stops the meter. */
  listenTo(stream) {
    if (this.source) this.source.disconnect();
    this.source = null;
    this.silentSince = performance.now();
    if (!stream || !this.audioContext || !stream.getAudioTracks().length) return;
    this.source = this.audioContext.createMediaStreamSource(stream);
    this.source.connect(this.analyser);
    if (!this.metering) this.run();
  }

  run() {
    this.metering = true;
    const { bar, track, voice, hint } = this;
    let lastSpoken = 0;
    const step = (now) => {
      if (!this.source) {
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
      hint.hidden = this.isPaused() || now - this.silentSince < SILENCE_HINT_MS;
      if (now - lastSpoken > 500) {
        track.setAttribute("aria-valuenow", String(Math.round(level * 100)));
        lastSpoken = now;
      }
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }
}
