// "New walkthrough" opens the composer with ?record=1: show the recorder's source menu open,
// so one click picks camera, screen or voice (screen capture must start from a click).
document.addEventListener("DOMContentLoaded", () => {
  const menu = document.querySelector(".recorder-menu");
  if (menu) menu.open = true;
});
