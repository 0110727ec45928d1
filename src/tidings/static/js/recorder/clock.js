// A steady tick for the screen + camera picture (bubble.js): a worker's timers keep their
// pace when the tab is hidden, where the page's own timers slow to once a second (the picture
// would stall). A classic worker script, not a module: it imports nothing.
let timer = 0;
onmessage = (event) => {
  clearInterval(timer);
  if (event.data > 0) timer = setInterval(() => postMessage("tick"), event.data);
};
