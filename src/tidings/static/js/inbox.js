// Inbox: skip the background refresh of the list while the person is using a snooze menu,
// so an open menu or a half-typed date is never swapped away under them.
document.addEventListener("htmx:beforeRequest", (event) => {
  const list = document.getElementById("inbox-list");
  if (!list || event.detail.elt !== list) return;
  const busy = list.querySelector("details[open]") || list.contains(document.activeElement) && document.activeElement.matches("input");
  if (busy) event.preventDefault();
});
