// A post shows a short time; pointing at it or focusing its link shows the full date in the
// reader's time zone (named by the page), made when asked rather than sent once per post.

const zone = document.querySelector("meta[name=time-zone]")?.content;
let format = null;

function fullDate(date) {
  if (!format) {
    const options = { dateStyle: "full", timeStyle: "long", hourCycle: "h23" };
    try {
      format = new Intl.DateTimeFormat("en-US", { ...options, timeZone: zone });
    } catch {
      format = new Intl.DateTimeFormat("en-US", options); // a zone this browser does not know
    }
  }
  return format.format(date).replace(/:\d\d (?=\S+$)/, " "); // minutes are enough
}

function describe(event) {
  const time = event.target.closest?.(".post > header a")?.querySelector("time[datetime]");
  if (!time || time.title) return;
  const date = new Date(time.dateTime);
  if (!Number.isNaN(date.getTime())) time.title = fullDate(date);
}

document.addEventListener("mouseover", describe);
document.addEventListener("focusin", describe);
