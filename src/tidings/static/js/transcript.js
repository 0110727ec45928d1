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
      this.correcting = false;
      this.correctButton = root.querySelector(".transcript-correct");
      this.correctButton?.addEventListener("click", () => this.toggleCorrecting());
      this.addCaptions(root.dataset.captionsUrl);
      this.root.addEventListener("click", (event) => this.onClick(event));
      this.search.addEventListener("input", () => this.find(this.search.value));
      this.search.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          event.preventDefault();
          this.nextMatch();
        }
      });
      this.listen();
      // Opened from a search result: mark the words that were searched for.
      const query = new URLSearchParams(location.search);
      if (query.get("q") && this.figure && this.figure.id === `rec-${query.get("rec")}`) {
        this.search.value = query.get("q");
        this.find(this.search.value);
      }
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

    toggleCorrecting() {
      this.correcting = !this.correcting;
      this.correctButton.setAttribute("aria-pressed", String(this.correcting));
      this.correctButton.textContent = this.correcting ? "Done correcting" : "Correct words";
      this.root.classList.toggle("is-correcting", this.correcting);
      this.root.querySelector(".transcript-correct-help").hidden = !this.correcting;
    }

    // A word becomes a field; Enter or leaving it saves, Escape keeps the word as it was.
    edit(word) {
      if (word.querySelector("input")) return;
      const before = word.textContent;
      const field = document.createElement("input");
      field.className = "transcript-word-field";
      field.value = before;
      field.setAttribute("aria-label", `Correct “${before}”`);
      field.size = Math.max(4, before.length + 1);
      word.textContent = "";
      word.append(field);
      field.focus();
      field.select();
      let settled = false;
      const finish = async (save) => {
        if (settled) return;
        settled = true;
        if (!save || field.value.trim() === before) {
          word.textContent = before;
          return;
        }
        const body = new FormData();
        body.append("at", word.dataset.at);
        body.append("text", field.value);
        body.append("csrfmiddlewaretoken", this.root.dataset.csrf);
        try {
          const response = await fetch(this.root.dataset.correctUrl, {
            method: "POST",
            body,
            credentials: "same-origin",
            headers: { "X-CSRFToken": this.root.dataset.csrf },
          });
          const answer = await response.json();
          if (!response.ok) throw new Error(answer.error || "The correction was not saved.");
          word.textContent = answer.text;
          word.classList.toggle("is-removed", !answer.text);
          word.classList.add("is-corrected");
        } catch (error) {
          word.textContent = before;
          word.title = error.message;
          word.classList.add("is-failed");
        }
      };
      field.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          event.preventDefault();
          finish(true);
        } else if (event.key === "Escape") finish(false);
      });
      field.addEventListener("blur", () => finish(true));
    }

    onClick(event) {
      if (event.target.closest(".transcript-word-field")) return;
      const target = event.target.closest(".w, .transcript-time");
      if (!target) return;
      if (this.correcting && target.classList.contains("w")) {
        event.preventDefault();
        this.edit(target);
        return;
      }
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
      this.step = wanted.length;
      if (wanted.length) {
        const bare = (text) => text.toLowerCase().replace(/[^\p{L}\p{N}']/gu, "");
        const plain = this.words.map((w) => bare(w.textContent));
        const parts = wanted.map(bare);
        for (let i = 0; i + parts.length <= plain.length; i++) {
          if (parts.every((part, j) => plain[i + j].startsWith(part))) {
            for (let j = 0; j < parts.length; j++) this.matches.push(this.words[i + j]);
            i += parts.length - 1;
          }
        }
        if (!this.matches.length && parts.length > 1) {
          // Not said together: each of the words, wherever it is said.
          this.matches = this.words.filter((w, i) => parts.some((p) => plain[i].startsWith(p)));
          this.step = 1;
        }
      }
      for (const word of this.matches) word.classList.add("is-match");
      const count = this.step ? this.matches.length / this.step : 0;
      this.found.textContent = wanted.length ? (count ? `${count} found` : "Not found") : "";
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
