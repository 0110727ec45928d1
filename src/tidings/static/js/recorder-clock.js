// A steady tick for recorder.js: a worker's timers keep their pace when the tab is hidden,
// where the page's own timers slow to once a second (the screen + camera picture would stall).
let timer = 0;
onmessage = (event) => {
  clearInterval(timer);
  if (event.data > 0) timer = setInterval(() => postMessage("tick"), event.data);
};
