// The interactive transcript under a player (transcripts/_panel.html): a click on a word or a
// paragraph's time seeks the player there, the word being spoken is marked and kept in view
// while "Follow playback" is on, and the search box marks the words that match.
(() => {
  const panels = new WeakMap();

  class Panel {
    constructor(root) {
      this.root = root;
      this.figure = root.closest("figure[data-player]");
      this.body = root.querySelector(".transcript-body");
      this.words = Array.from(root.querySelectorAll(".transcript-body .w"));
      this.starts = this.words.map((word) => Number(word.dataset.ms));
      this.follow = root.querySelector(".transcript-follow");
      this.search = root.querySelector(".transcript-search");
      this.found = root.querySelector(".transcript-found");
      this.current = null;
      this.addCaptions(root.dataset.captionsUrl);
      this.body.addEventListener("click", (event) => this.onClick(event));
      this.search.addEventListener("input", () => this.find(this.search.value));
      this.search.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          event.preventDefault();
          this.nextMatch();
        }
      });
      this.listen();
    }

    media() {
      return this.figure?.querySelector(".player-media") || null;
    }

    // The player was drawn before the words were ready: give it its captions now.
    addCaptions(url) {
      const media = this.media();
      if (!media || !url || media.querySelector("track")) return;
      const track = document.createElement("track");
      track.kind = "captions";
      track.label = "Captions";
      track.src = url;
      track.default = true;
      media.append(track);
    }

    listen() {
      const media = this.media();
      if (!media || media === this.listening) return;
      this.listening = media;
      media.addEventListener("timeupdate", () => this.mark(media.currentTime * 1000));
      media.addEventListener("seeked", () => this.mark(media.currentTime * 1000));
    }

    onClick(event) {
      const target = event.target.closest(".w, .transcript-time");
      if (!target) return;
      const media = this.media();
      if (!media) return; // no player here: the time link opens the recording's page
      event.preventDefault();
      media.currentTime = Number(target.dataset.ms) / 1000;
      this.mark(Number(target.dataset.ms));
      if (media.paused) media.play().catch(() => {});
    }

    // The last word that started at or before `ms`.
    wordAt(ms) {
      let low = 0;
      let high = this.starts.length - 1;
      let found = -1;
      while (low <= high) {
        const middle = (low + high) >> 1;
        if (this.starts[middle] <= ms) {
          found = middle;
          low = middle + 1;
        } else high = middle - 1;
      }
      return found >= 0 ? this.words[found] : null;
    }

    mark(ms) {
      const word = this.wordAt(ms + 1);
      if (word === this.current) return;
      this.current?.classList.remove("is-current");
      this.current = word;
      if (!word) return;
      word.classList.add("is-current");
      if (this.follow?.checked && !this.body.matches(":hover")) this.keepInView(word);
    }

    keepInView(word) {
      const box = this.body.getBoundingClientRect();
      const place = word.getBoundingClientRect();
      if (place.top < box.top || place.bottom > box.bottom) {
        this.body.scrollTop += place.top - box.top - box.height / 3;
      }
    }

    find(query) {
      const wanted = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
      for (const word of this.matches || []) word.classList.remove("is-match");
      this.matches = [];
      this.matchIndex = -1;
      if (wanted.length) {
        const plain = this.words.map((w) => w.textContent.toLowerCase().replace(/[^\p{L}\p{N}']/gu, ""));
        for (let i = 0; i + wanted.length <= plain.length; i++) {
          if (wanted.every((part, j) => plain[i + j].startsWith(part.replace(/[^\p{L}\p{N}']/gu, "")))) {
            for (let j = 0; j < wanted.length; j++) this.matches.push(this.words[i + j]);
            i += wanted.length - 1;
          }
        }
      }
      for (const word of this.matches) word.classList.add("is-match");
      const count = wanted.length ? this.matches.length / wanted.length : 0;
      this.found.textContent = wanted.length ? (count ? `${count} found` : "Not found") : "";
      this.step = wanted.length;
      if (this.matches.length) this.nextMatch();
    }

    nextMatch() {
      if (!this.matches?.length) return;
      this.matchIndex = (this.matchIndex + this.step) % this.matches.length;
      this.keepInView(this.matches[this.matchIndex]);
    }
  }

  function setUp(scope) {
    const roots = scope.matches?.(".transcript-ready")
      ? [scope]
      : scope.querySelectorAll(".transcript-ready");
    for (const root of roots) {
      if (!panels.has(root)) panels.set(root, new Panel(root));
    }
  }

  document.addEventListener("htmx:load", (event) => setUp(event.detail.elt));
  setUp(document);
})();
