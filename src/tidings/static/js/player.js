// The recording player: our own controls under each <video> or <audio> (figure[data-player]),
// built here from the figure's data since only JavaScript makes them work (without it the page
// keeps the browser's own), keyboard shortcuts while the player has focus, the speed remembered
// across pages, markers of the replies made at a moment, "Comment at 0:42" for the reply
// composer, and reports of what was watched so the author sees who saw it. Players arriving
// later (live updates, a finished recording replacing its processing one) are set up when htmx
// loads them.
(() => {
  const SPEEDS = [1, 1.25, 1.5, 1.75, 2];
  const SPEED_KEY = "tidings.playbackSpeed";
  const REPORT_EVERY_MS = 10_000;
  // Playback farther than this past the last timeupdate was a jump, not watching.
  const LONGEST_STEP_MS = 5_000;
  // What onKey does while a player has focus, told to assistive technology.
  const SHORTCUTS = "Space K ArrowLeft ArrowRight J L < > M F 0 1 2 3 4 5 6 7 8 9";
  const SVG = "http://www.w3.org/2000/svg";
  const ICONS = {
    play: "M8 5v14l11-7z",
    pause: "M6 5h4v14H6zm8 0h4v14h-4z",
    sound: "M4 9v6h4l5 5V4L8 9zm12.5 3a4.5 4.5 0 0 0-2.5-4v8a4.5 4.5 0 0 0 2.5-4z",
    muted:
      "M4 9v6h4l5 5V4L8 9zm12.6 3 2.7-2.7-1.3-1.3-2.7 2.7-2.7-2.7-1.3 1.3 2.7 2.7-2.7 2.7 " +
      "1.3 1.3 2.7-2.7 2.7 2.7 1.3-1.3z",
    fullScreen: "M4 4h6v2H6v4H4zm10 0h6v6h-2V6h-4zM4 14h2v4h4v2H4zm14 0h2v6h-6v-2h4z",
  };
  const players = new WeakMap();
  // A player replaced by its finished version carries on where it was: token → state.
  const carryOver = new Map();

  function clock(seconds) {
    const total = Math.max(0, Math.floor(seconds || 0));
    const hours = Math.floor(total / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const rest = String(total % 60).padStart(2, "0");
    return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
  }

  // "42", "42.5", "0:42", "1:02:03" → seconds; null for anything else.
  function parseTime(text) {
    if (!/^\d+(\.\d+)?$|^\d+(:\d{1,2}){1,2}$/.test(text || "")) return null;
    return text.split(":").reduce((total, part) => total * 60 + Number(part), 0);
  }

  // An element with these attributes (true: present, without a value) and children; text
  // given as a child stays text, so names and labels people wrote never become markup.
  function element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      node.setAttribute(name, value === true ? "" : String(value));
    }
    node.append(...children);
    return node;
  }

  function icon(path, attributes = {}) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    for (const [name, value] of Object.entries(attributes)) svg.setAttribute(name, value);
    const shape = document.createElementNS(SVG, "path");
    shape.setAttribute("d", path);
    svg.append(shape);
    return svg;
  }

  // The figure's data-markers: [[ms, reply id, label], ...] of the replies made at a moment.
  function markersOf(root) {
    try {
      const markers = JSON.parse(root.dataset.markers || "[]");
      return Array.isArray(markers) ? markers : [];
    } catch {
      return []; // no markers rather than no player
    }
  }

  // The page's token (base.html gives it to htmx), for reports sent outside htmx.
  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch {
      return "";
    }
  }

  function savedSpeed() {
    try {
      const speed = Number(localStorage.getItem(SPEED_KEY));
      return SPEEDS.includes(speed) ? speed : 1;
    } catch {
      return 1; // storage refused (private mode): the normal speed
    }
  }

  function saveSpeed(speed) {
    try {
      localStorage.setItem(SPEED_KEY, String(speed));
    } catch {
      // Not remembered; this page still plays at that speed.
    }
  }

  class Player {
    constructor(root) {
      this.root = root;
      this.token = root.id.replace(/^rec-/, ""); // transcripts/_player.html: id="rec-<token>"
      this.media = root.querySelector(".player-media");
      this.waveform = root.querySelector(".player-waveform");
      this.levels = (this.waveform?.dataset.levels || "").split(",").filter(Boolean).map(Number);
      this.knownDuration = Number(root.dataset.durationMs || 0) / 1000;
      this.viewedUrl = root.dataset.viewedUrl || "";
      this.watching = null; // [start_ms, end_ms] being watched now
      this.watched = []; // finished ranges not reported yet
      this.dragging = false;

      // Our controls replace the browser's (kept in the page for people without JavaScript).
      this.build();
      this.media.controls = false;
      root.setAttribute("aria-keyshortcuts", SHORTCUTS);
      this.setSpeed(savedSpeed(), false);
      this.listen();
      this.showDuration();
      this.showTime();
      const composer = document.getElementById("composer");
      if (composer?.querySelector("input[name=moment_recording]")) {
        this.commentButton.hidden = false;
      }
    }

    build() {
      const root = this.root;
      const knownMs = Number(root.dataset.durationMs) || 0;
      this.playButton = element(
        "button",
        { class: "player-button player-play", type: "button", "aria-label": "Play" },
        icon(ICONS.play, { class: "icon-play", "aria-hidden": "true" }),
        icon(ICONS.pause, { class: "icon-pause", "aria-hidden": "true" }),
      );
      this.current = element("span", { class: "player-current" }, "0:00");
      this.total = element(
        "span",
        { class: "player-duration" },
        knownMs ? clock(knownMs / 1000) : "–:––",
      );
      this.seek = element("input", {
        class: "player-seek",
        type: "range",
        min: 0,
        max: knownMs,
        step: 100,
        value: 0,
        "aria-label": "Position in the recording",
      });
      this.seek.disabled = !knownMs;
      this.markers = markersOf(root).map(([ms, reply, label]) =>
        element("button", {
          class: "player-marker",
          type: "button",
          hidden: true,
          "data-ms": ms,
          "data-reply": reply,
          "aria-label": label,
          title: label,
        }),
      );
      const speedId = `${root.id}-speed`;
      this.speed = element(
        "select",
        { class: "player-speed", id: speedId },
        ...SPEEDS.map((speed) => element("option", { value: speed }, `${speed}×`)),
      );
      this.muteButton = element(
        "button",
        {
          class: "player-button player-mute",
          type: "button",
          "aria-label": "Mute",
          "aria-pressed": "false",
        },
        icon(ICONS.sound, { class: "icon-sound", "aria-hidden": "true" }),
        icon(ICONS.muted, { class: "icon-muted", "aria-hidden": "true" }),
      );
      this.controls = element(
        "div",
        { class: "player-controls", role: "group", "aria-label": "Player controls" },
        this.playButton,
        element(
          "span",
          { class: "player-time" },
          this.current,
          element("span", { class: "player-total" }, " / ", this.total),
        ),
        element(
          "div",
          { class: "player-timeline" },
          this.seek,
          element("div", { class: "player-markers" }, ...this.markers),
        ),
        element("label", { class: "visually-hidden", for: speedId }, "Playback speed"),
        this.speed,
        this.muteButton,
      );
      // Audio has no full screen button: nothing to show there.
      if (this.media.tagName === "VIDEO") {
        this.fullScreenButton = element(
          "button",
          { class: "player-button player-fullscreen", type: "button", "aria-label": "Full screen" },
          icon(ICONS.fullScreen, { "aria-hidden": "true" }),
        );
        this.controls.append(this.fullScreenButton);
      }
      const stage = root.querySelector(".player-stage");
      const bigPlay = element("span", { class: "player-big-play", "aria-hidden": "true" });
      bigPlay.append(icon(ICONS.play));
      stage.append(bigPlay);
      stage.after(this.controls);
      this.commentTime = element("span", { class: "player-comment-time" }, "0:00");
      this.commentButton = element(
        "button",
        { class: "player-comment small", type: "button", hidden: true },
        "Comment at ",
        this.commentTime,
      );
      root.querySelector(".player-foot").prepend(this.commentButton);
    }

    duration() {
      const own = this.media.duration;
      // A recording still being processed has no duration in its file (Infinity) yet.
      return Number.isFinite(own) && own > 0 ? own : this.knownDuration;
    }

    listen() {
      const media = this.media;
      media.addEventListener("play", () => this.showPlaying());
      media.addEventListener("pause", () => {
        this.showPlaying();
        this.extendWatching();
        this.stopWatching();
        this.report();
      });
      media.addEventListener("playing", () => this.startWatching());
      media.addEventListener("seeking", () => this.stopWatching());
      media.addEventListener("seeked", () => {
        if (!media.paused) this.startWatching();
        this.showTime();
      });
      media.addEventListener("timeupdate", () => {
        if (!media.paused && !media.seeking) this.extendWatching();
        this.showTime();
      });
      media.addEventListener("loadedmetadata", () => {
        this.setSpeed(this.currentSpeed, false); // some browsers reset it on load
        this.showDuration();
      });
      media.addEventListener("durationchange", () => this.showDuration());
      media.addEventListener("volumechange", () => this.showMuted());
      const sources = media.querySelectorAll("source");
      // Sources report errors on the last one, once none could play.
      sources[sources.length - 1]?.addEventListener("error", () => this.showError());

      this.playButton.addEventListener("click", () => this.toggle());
      this.root.querySelector(".player-stage").addEventListener("click", (event) => {
        if (this.waveform && event.target === this.waveform && this.duration()) {
          const box = this.waveform.getBoundingClientRect();
          this.seekTo(((event.clientX - box.left) / box.width) * this.duration(), true);
        } else {
          this.toggle();
        }
        this.root.focus({ preventScroll: true });
      });
      this.seek.addEventListener("pointerdown", () => {
        this.dragging = true;
      });
      this.seek.addEventListener("input", () => {
        this.media.currentTime = Number(this.seek.value) / 1000;
        this.showTime();
      });
      this.seek.addEventListener("change", () => {
        this.dragging = false;
      });
      this.speed.addEventListener("change", () => this.setSpeed(Number(this.speed.value), true));
      this.muteButton.addEventListener("click", () => this.toggleMute());
      this.fullScreenButton?.addEventListener("click", () => this.toggleFullScreen());
      for (const marker of this.markers) {
        marker.addEventListener("click", () => this.seekTo(Number(marker.dataset.ms) / 1000, true));
      }
      this.commentButton.addEventListener("click", () => this.commentHere());
      this.root.addEventListener("keydown", (event) => this.onKey(event));
      if (this.waveform) window.addEventListener("resize", () => this.drawWaveform());
      this.reportTimer = window.setInterval(() => {
        if (!this.root.isConnected) window.clearInterval(this.reportTimer);
        else if (!this.media.paused) this.report();
      }, REPORT_EVERY_MS);
    }

    // --- playing

    play() {
      this.media.play().catch(() => {
        // Autoplay refused (no click yet on this page) or media not loadable: stays paused.
      });
    }

    toggle() {
      if (this.media.paused || this.media.ended) this.play();
      else this.media.pause();
    }

    seekTo(seconds, andPlay) {
      const go = () => {
        const end = this.duration();
        this.media.currentTime = Math.max(0, end ? Math.min(seconds, end) : seconds);
        this.showTime();
        if (andPlay) this.play();
      };
      if (this.media.readyState >= HTMLMediaElement.HAVE_METADATA) go();
      else this.media.addEventListener("loadedmetadata", go, { once: true });
    }

    skip(seconds) {
      this.seekTo(this.media.currentTime + seconds, false);
    }

    get currentSpeed() {
      return Number(this.speed.value) || 1;
    }

    setSpeed(speed, remember) {
      this.speed.value = String(speed);
      this.media.defaultPlaybackRate = speed;
      this.media.playbackRate = speed;
      if (remember) saveSpeed(speed);
    }

    stepSpeed(step) {
      const index = SPEEDS.indexOf(this.currentSpeed) + step;
      if (index >= 0 && index < SPEEDS.length) this.setSpeed(SPEEDS[index], true);
    }

    toggleMute() {
      this.media.muted = !this.media.muted;
    }

    toggleFullScreen() {
      if (document.fullscreenElement) {
        document.exitFullscreen().catch(() => {});
      } else if (this.root.requestFullscreen) {
        this.root.requestFullscreen().catch(() => {});
      } else if (this.media.webkitEnterFullscreen) {
        this.media.webkitEnterFullscreen(); // iPhone: only the video itself goes full screen
      }
    }

    onKey(event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target;
      if (target.matches("textarea, select, input:not([type=range])") || target.isContentEditable) {
        return;
      }
      const key = event.key;
      if (key === " " && target.matches("button, summary, a")) return; // the button's own action
      if (key === " " || key === "k" || key === "K") this.toggle();
      else if (key === "ArrowLeft") this.skip(-5);
      else if (key === "ArrowRight") this.skip(5);
      else if (key === "j" || key === "J") this.skip(-10);
      else if (key === "l" || key === "L") this.skip(10);
      else if (key === "<") this.stepSpeed(-1);
      else if (key === ">") this.stepSpeed(1);
      else if (key === "m" || key === "M") this.toggleMute();
      else if ((key === "f" || key === "F") && this.fullScreenButton) this.toggleFullScreen();
      else if (/^[0-9]$/.test(key) && this.duration()) {
        this.seekTo((this.duration() * Number(key)) / 10, false);
      }
      else return;
      event.preventDefault();
    }

    // --- showing

    showPlaying() {
      const playing = !this.media.paused;
      this.root.classList.toggle("is-playing", playing);
      this.playButton.setAttribute("aria-label", playing ? "Pause" : "Play");
    }

    showMuted() {
      const muted = this.media.muted;
      this.root.classList.toggle("is-muted", muted);
      this.muteButton.setAttribute("aria-pressed", String(muted));
      this.muteButton.setAttribute("aria-label", muted ? "Unmute" : "Mute");
    }

    showDuration() {
      const end = this.duration();
      if (!end) return;
      this.total.textContent = clock(end);
      this.seek.max = String(Math.round(end * 1000));
      this.seek.disabled = false;
      for (const marker of this.markers) {
        const share = Math.min(1, Number(marker.dataset.ms) / 1000 / end);
        marker.style.left = `${(share * 100).toFixed(2)}%`;
        marker.hidden = false;
      }
      this.root.classList.add("has-duration");
      this.drawWaveform();
    }

    showTime() {
      const now = this.media.currentTime || 0;
      const end = this.duration();
      this.current.textContent = clock(now);
      if (!this.dragging) this.seek.value = String(Math.round(now * 1000));
      this.seek.setAttribute(
        "aria-valuetext",
        end ? `${clock(now)} of ${clock(end)}` : clock(now),
      );
      this.commentTime.textContent = clock(now);
      this.drawWaveform();
    }

    showError() {
      const foot = this.root.querySelector(".player-foot");
      if (foot.querySelector(".player-error")) return;
      const note = document.createElement("p");
      note.className = "player-error";
      note.setAttribute("role", "alert");
      note.textContent = "This recording could not be loaded. Reload the page to try again.";
      foot.prepend(note);
    }

    drawWaveform() {
      const canvas = this.waveform;
      if (!canvas) return;
      const ratio = window.devicePixelRatio || 1;
      const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
      const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
      }
      const context = canvas.getContext("2d");
      const styles = getComputedStyle(this.root);
      const played = styles.getPropertyValue("--wave-played").trim() || "#1d4ed8";
      const rest = styles.getPropertyValue("--wave-rest").trim() || "#c7cbd3";
      const end = this.duration();
      const edge = end ? (this.media.currentTime / end) * width : 0;
      context.clearRect(0, 0, width, height);
      const middle = height / 2;
      if (!this.levels.length) {
        // No waveform (yet): a plain line that fills as it plays.
        context.fillStyle = rest;
        context.fillRect(0, middle - ratio, width, 2 * ratio);
        context.fillStyle = played;
        context.fillRect(0, middle - 2 * ratio, edge, 4 * ratio);
        return;
      }
      const step = width / this.levels.length;
      const gap = Math.max(1, step * 0.25);
      this.levels.forEach((level, index) => {
        const x = index * step;
        const barHeight = Math.max(2 * ratio, level * (height - 4 * ratio));
        context.fillStyle = x < edge ? played : rest;
        context.fillRect(x, middle - barHeight / 2, Math.max(1, step - gap), barHeight);
      });
    }

    // --- comments at a moment

    commentHere() {
      const form = document.getElementById("composer");
      if (!form) return;
      const ms = Math.round((this.media.currentTime || 0) * 1000);
      this.media.pause();
      form.querySelector("input[name=moment_recording]").value = this.token;
      form.querySelector("input[name=moment_ms]").value = String(ms);
      const chip = form.querySelector(".composer-moment");
      chip.querySelector(".composer-moment-time").textContent = clock(ms / 1000);
      // The figure is named by the recording's title.
      chip.querySelector(".composer-moment-title").textContent =
        this.root.getAttribute("aria-label") || "";
      chip.hidden = false;
      form.scrollIntoView({ behavior: "smooth", block: "center" });
      form.querySelector("textarea[name=body]")?.focus({ preventScroll: true });
    }

    // --- what was watched

    startWatching() {
      const now = Math.round(this.media.currentTime * 1000);
      this.stopWatching();
      this.watching = [now, now];
    }

    extendWatching() {
      if (!this.watching) return;
      const now = Math.round(this.media.currentTime * 1000);
      const last = this.watching[1];
      if (now >= last && now - last <= LONGEST_STEP_MS * this.currentSpeed) {
        this.watching[1] = now;
      } else if (!this.media.paused) {
        this.startWatching();
      }
    }

    stopWatching() {
      if (this.watching && this.watching[1] > this.watching[0]) this.watched.push(this.watching);
      this.watching = null;
    }

    report() {
      if (!this.viewedUrl) return; // the author's own watching is not counted
      const ranges = this.watched.splice(0);
      if (this.watching && this.watching[1] > this.watching[0]) {
        ranges.push([...this.watching]);
        this.watching = [this.watching[1], this.watching[1]];
      }
      if (!ranges.length) return;
      const body = new URLSearchParams({
        csrfmiddlewaretoken: csrfToken(),
        ranges: JSON.stringify(ranges),
      });
      // A beacon still goes out while the page is closing.
      if (!(navigator.sendBeacon && navigator.sendBeacon(this.viewedUrl, body))) {
        fetch(this.viewedUrl, { method: "POST", body, keepalive: true }).catch(() => {});
      }
    }

    // --- replaced by the finished player

    carry() {
      this.extendWatching();
      this.report();
      window.clearInterval(this.reportTimer);
      return { time: this.media.currentTime, playing: !this.media.paused };
    }
  }

  function setUp(scope) {
    const roots = scope.matches?.("figure[data-player]")
      ? [scope]
      : scope.querySelectorAll("figure[data-player]");
    for (const root of roots) {
      if (players.has(root) || !root.querySelector(".player-media")) continue;
      const player = new Player(root);
      players.set(root, player);
      const state = carryOver.get(player.token);
      if (state) {
        carryOver.delete(player.token);
        if (state.time) player.seekTo(state.time, state.playing);
        else if (state.playing) player.play();
      }
    }
  }

  function playerFor(token) {
    const root = document.getElementById(`rec-${token}`);
    return root ? players.get(root) : undefined;
  }

  // "?t=42" or "#t=1:05" on a page starts its first player there, "?t=42&rec=<token>" that
  // recording's player (links from search results and transcripts).
  function startFromAddress() {
    const hash = location.hash.match(/^#t=(.+)$/);
    const query = new URLSearchParams(location.search);
    const seconds = parseTime(hash ? hash[1] : query.get("t"));
    const wanted = query.get("rec");
    const root = wanted
      ? document.getElementById(`rec-${wanted}`)
      : document.querySelector("figure[data-player]");
    const player = root && players.get(root);
    if (seconds === null || !player) return;
    root.scrollIntoView({ block: "center" });
    root.focus({ preventScroll: true });
    player.seekTo(seconds, true);
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a.moment-link[data-seek]");
    if (link) {
      const player = playerFor(link.dataset.seek);
      if (!player) return; // the recording is not on this page: the link goes to it
      event.preventDefault();
      player.root.scrollIntoView({ behavior: "smooth", block: "center" });
      player.root.focus({ preventScroll: true });
      player.seekTo(Number(link.dataset.ms) / 1000, true);
      return;
    }
    const remove = event.target.closest(".composer-moment-remove");
    if (remove) {
      const form = remove.closest("form");
      form.querySelector("input[name=moment_recording]").value = "";
      form.querySelector("input[name=moment_ms]").value = "";
      form.querySelector(".composer-moment").hidden = true;
    }
  });

  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    const player = target && players.get(target);
    if (!player) return;
    const cosmetic = event.detail.requestConfig?.elt?.hasAttribute("data-finishing");
    if (cosmetic && !player.media.paused) {
      event.detail.shouldSwap = false; // a new poster or waveform can wait for a pause
      return;
    }
    carryOver.set(player.token, player.carry());
  });
  document.addEventListener("htmx:load", (event) => setUp(event.detail.elt));
  // Leaving or hiding the page sends what was watched since the last report (phones often
  // never fire pagehide when a tab is put away).
  function reportAll() {
    for (const root of document.querySelectorAll("figure[data-player]")) {
      const player = players.get(root);
      if (player) {
        player.extendWatching();
        player.report();
      }
    }
  }
  window.addEventListener("pagehide", reportAll);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") reportAll();
  });

  setUp(document);
  startFromAddress();
})();
