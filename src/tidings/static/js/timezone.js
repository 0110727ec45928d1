// Time zone pickers marked data-guess-zone start at the browser's zone instead of UTC.
document.addEventListener("DOMContentLoaded", () => {
  let zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return;
  }
  for (const select of document.querySelectorAll("select[data-guess-zone]")) {
    if (select.value !== "UTC" || !zone) continue;
    if ([...select.options].some((option) => option.value === zone)) select.value = zone;
  }
});
