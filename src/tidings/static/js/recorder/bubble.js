// The screen with a round camera bubble, drawn on a canvas whose stream is what gets recorded.

const FRAME_MS = 1000 / 30;

export class ScreenWithBubble {
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
    for (const track of this.stream.getTracks()) track.stop();
  }
}
