// Time zone boxes marked data-guess-zone start at the browser's zone instead of UTC (the
// server stores the canonical name of an old one the browser may report, like Asia/Calcutta).
document.addEventListener("DOMContentLoaded", () => {
  let zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return;
  }
  if (!zone) return;
  for (const input of document.querySelectorAll("input[data-guess-zone]")) {
    if (input.value === "UTC") input.value = zone;
  }
});
