// Quote a passage: select text in a post, click "Quote", and the reply composer gets it.
// Without a selection the whole post is quoted; without JavaScript the link does the same.
(() => {
  const composer = () => document.getElementById("composer");

  function selectedTextIn(element) {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || selection.rangeCount === 0) return "";
    const range = selection.getRangeAt(0);
    if (!element.contains(range.commonAncestorContainer)) return "";
    return selection.toString().trim();
  }

  function setQuote(form, key, author, text) {
    form.querySelector("input[name=quoted_reply_id]").value = key === "post" ? "" : key;
    form.querySelector("input[name=quote_text]").value = text;
    const box = form.querySelector(".composer-quote");
    box.querySelector(".composer-quote-author").textContent = author;
    box.querySelector(".composer-quote-text").textContent = text;
    box.hidden = !text;
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a.quote-link");
    const form = composer();
    if (link && form) {
      const post = link.closest("article.post");
      const body = post && post.querySelector(".post-body");
      if (!body) return;
      event.preventDefault();
      const text = (selectedTextIn(body) || body.textContent).replace(/\s+/g, " ").trim();
      const author = post.querySelector(":scope > header > strong");
      const key = post.id === "post" ? "post" : post.id.replace("reply-", "");
      setQuote(form, key, author ? author.textContent : "", text.slice(0, 5000));
      const textarea = form.querySelector("textarea[name=body]");
      form.scrollIntoView({ behavior: "smooth", block: "center" });
      textarea.focus({ preventScroll: true });
      return;
    }
    const remove = event.target.closest("a.composer-quote-remove");
    if (remove && form && form.contains(remove)) {
      event.preventDefault();
      setQuote(form, "post", "", "");
    }
  });
})();
