// @mention autocomplete for textareas with data-mentions-url: type "@mi" (or "@Mia Me", a
// name with its spaces), pick a person, and "@handle " replaces what was typed. Arrow keys
// move, Enter or Tab picks, Escape closes. A name typed in full without picking is resolved
// by the server as well.
(() => {
  const MENTION_AT_CARET = /(?:^|[^\p{L}\p{N}_.@])@([\p{L}\p{N}_.+'-]{0,40}(?: [\p{L}\p{N}_.+'-]{1,40}){0,2})$/u;

  function setup(textarea) {
    const list = document.getElementById(textarea.getAttribute("aria-controls"));
    if (!list) return;
    let people = [];
    let active = 0;
    let timer = null;
    let lastQuery = null;

    function close() {
      list.hidden = true;
      list.replaceChildren();
      textarea.removeAttribute("aria-activedescendant");
      textarea.setAttribute("aria-expanded", "false");
      people = [];
    }

    function render() {
      list.replaceChildren();
      people.forEach((person, index) => {
        const item = document.createElement("li");
        item.id = `mention-option-${index}`;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", String(index === active));
        const name = document.createElement("strong");
        name.textContent = person.name;
        const handle = document.createElement("span");
        handle.textContent = ` @${person.handle}`;
        item.append(name, handle);
        item.addEventListener("mousedown", (event) => {
          event.preventDefault();
          pick(index);
        });
        list.append(item);
      });
      list.hidden = people.length === 0;
      textarea.setAttribute("aria-expanded", String(people.length > 0));
      if (people.length) textarea.setAttribute("aria-activedescendant", `mention-option-${active}`);
    }

    function queryAtCaret() {
      const before = textarea.value.slice(0, textarea.selectionStart);
      const match = before.match(MENTION_AT_CARET);
      return match ? match[1] : null;
    }

    function pick(index) {
      const person = people[index];
      if (!person) return;
      const caret = textarea.selectionStart;
      const before = textarea.value.slice(0, caret);
      const start = before.lastIndexOf("@");
      const insert = `@${person.handle} `;
      textarea.value = textarea.value.slice(0, start) + insert + textarea.value.slice(caret);
      const position = start + insert.length;
      textarea.setSelectionRange(position, position);
      textarea.focus();
      close();
    }

    async function lookup(query) {
      const url = new URL(textarea.dataset.mentionsUrl, window.location.origin);
      url.searchParams.set("q", query);
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!response.ok) return close();
        const data = await response.json();
        if (queryAtCaret() !== query) return;
        people = data.people || [];
        active = 0;
        render();
      } catch {
        close();
      }
    }

    textarea.addEventListener("input", () => {
      const query = queryAtCaret();
      if (query === null) {
        lastQuery = null;
        return close();
      }
      if (query === lastQuery) return;
      lastQuery = query;
      clearTimeout(timer);
      timer = setTimeout(() => lookup(query), 120);
    });

    textarea.addEventListener("keydown", (event) => {
      if (list.hidden || !people.length) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        active = (active + step + people.length) % people.length;
        render();
      } else if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        pick(active);
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });

    textarea.addEventListener("blur", () => setTimeout(close, 150));
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("textarea[data-mentions-url]").forEach(setup);
  });
})();
