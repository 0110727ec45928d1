// "This post" tools, rendered once per page (threads/_post_tools.html) rather than once per
// post. Each post carries only a link to its own actions page, which works without JavaScript;
// here that link gives way to the tools cloned from the page's <template>, and a menu is filled
// for its post when it is opened. The actions check every permission again on submit.

const template = (name) => document.getElementById(`post-${name}`);

// A post's key, as its forms name it: "post" for the opening post, else the reply's id.
function keyOf(post) {
  return post.id === "post" ? "post" : post.id.replace("reply-", "");
}

// Where the post's own pages are: its actions page's siblings ("edit", "delete").
function postUrl(post, name) {
  return new URL(name, new URL(post.dataset.actions, document.baseURI)).pathname;
}

function addTools(link) {
  const post = link.closest("article.post");
  const tools = template("tools");
  if (!post || !tools) return;
  post.dataset.actions = link.getAttribute("href");
  // Edit and Delete on one's own posts; Delete on every post to whom the page allows it.
  const may = {
    own: "own" in post.dataset,
    delete: "own" in post.dataset || "deleteAny" in tools.dataset,
  };
  const found = tools.content.cloneNode(true);
  for (const tool of found.querySelectorAll("[data-needs]")) {
    if (!may[tool.dataset.needs]) tool.remove();
  }
  const quote = found.querySelector(".quote-link");
  if (quote) quote.href = `?quote=${keyOf(post)}#composer`;
  const edit = found.querySelector("[data-tool=edit]");
  if (edit) edit.href = postUrl(post, "edit");
  const bar = document.createElement("div");
  bar.className = "post-tools";
  const lead = [...found.querySelectorAll("[data-lead]")];
  const original = post.querySelector(":scope > header > .post-original");
  bar.append(...lead, ...(original ? [original] : []), found);
  link.replaceWith(bar);
}

function addPicker(post) {
  const picker = template("react");
  if (!picker) return;
  let reactions = post.querySelector(":scope > .reactions");
  if (!reactions) {
    reactions = document.createElement("div");
    reactions.className = "reactions";
    reactions.id = `reactions-${keyOf(post)}`;
    post.append(reactions);
  }
  if (!reactions.querySelector(".reaction-picker")) {
    reactions.append(picker.content.cloneNode(true));
  }
}

function enhance(root) {
  for (const link of root.querySelectorAll("a.post-more")) addTools(link);
  const shown = "article.post:not(.post-deleted)";
  const posts = root.matches?.(shown) ? [root] : [...root.querySelectorAll(shown)];
  const owner = root.closest?.(shown);
  if (owner && !posts.includes(owner)) posts.push(owner); // a post's reactions, swapped in
  for (const post of posts) addPicker(post);
}

// Fill a menu for its post the first time it opens.
function fill(menu) {
  if (menu.dataset.filled) return;
  const post = menu.closest("article.post");
  const body = template(`menu-${menu.dataset.menu}`);
  if (!post || !body) return;
  const key = keyOf(post);
  const found = body.content.cloneNode(true);
  for (const input of found.querySelectorAll("input[name=reply_id]")) {
    input.value = key === "post" ? "" : key;
  }
  for (const element of found.querySelectorAll("[id]")) element.id += key;
  for (const label of found.querySelectorAll("label[for]")) label.htmlFor += key;
  for (const form of found.querySelectorAll("form[hx-target]")) {
    form.setAttribute("hx-target", `#reactions-${key}`);
  }
  const confirm = found.querySelector("form.confirm-box");
  if (confirm) {
    confirm.action = postUrl(post, "delete");
    confirm.querySelector(".confirm-prompt").textContent =
      key === "post" ? confirm.dataset.promptPost : confirm.dataset.promptReply;
  }
  menu.append(found);
  menu.dataset.filled = "1";
  const htmx = window.htmx;
  // Forms that post with htmx, and "Ask to respond"'s people, fetched as the menu opens.
  if (htmx) for (const element of menu.querySelectorAll("[hx-post], [hx-get]")) htmx.process(element);
}

document.addEventListener("click", (event) => {
  const summary = event.target.closest("details[data-menu] > summary");
  if (summary) fill(summary.parentElement);
});

enhance(document);
// Replies that arrive live, and reactions swapped in after a click.
document.addEventListener("htmx:load", (event) => enhance(event.detail.elt));
