// Recordings started in this browser and not posted: remembered while a tab works on them, so
// that after a crash or a closed tab the composer offers the one left behind, and the
// recording a failed post held, so that it is attached again when the page comes back.

import { addressesOf } from "./upload.js";

// [{token, person, startedAt, seenAt}]; seenAt is refreshed while a tab works on
// it, person keeps one person's reminders from another's on a shared computer.
const UNFINISHED = "tidings.recordings.unfinished";
// The recording this tab is posting; if the post comes back with an error it is re-attached.
const POSTING = "tidings.recordings.posting";
export const HEARTBEAT_MS = 15_000;

function readJSON(storage, key, fallback) {
  try {
    const value = JSON.parse(storage.getItem(key));
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

function writeJSON(storage, key, value) {
  try {
    if (value === null) storage.removeItem(key);
    else storage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled: only the crash notice is lost.
  }
}

function when(iso) {
  const date = new Date(iso);
  const time = date.toLocaleTimeString(undefined, {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  if (date.toDateString() === new Date().toDateString()) return `today at ${time}`;
  const day = date.toLocaleDateString(undefined, {
    weekday: "short",
    month: "short",
    day: "numeric",
  });
  return `${day} at ${time}`;
}

export function remember(entry) {
  const list = readJSON(localStorage, UNFINISHED, []);
  const old = list.find((e) => e.token === entry.token) || {};
  const others = list.filter((e) => e.token !== entry.token);
  const now = new Date().toISOString();
  const updated = { ...old, startedAt: now, ...entry, seenAt: now };
  writeJSON(localStorage, UNFINISHED, [...others, updated].slice(-10));
}

export function forget(token) {
  const list = readJSON(localStorage, UNFINISHED, []);
  writeJSON(localStorage, UNFINISHED, list.filter((e) => e.token !== token));
}

/** Keep the recording a post is about to send; null forgets it. */
export function keepPosting(posting) {
  writeJSON(sessionStorage, POSTING, posting);
}

/** The recording the last post of this tab sent (once: it is forgotten on reading). */
export function takePosting() {
  const posting = readJSON(sessionStorage, POSTING, null);
  writeJSON(sessionStorage, POSTING, null);
  return posting;
}

export async function serverState(chunksUrl) {
  // {state, received} from the server; {state: null} when the recording is gone
  // (discarded, or not this person's); null when the server did not answer.
  try {
    const response = await fetch(chunksUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (response.status === 404) return { state: null };
    if (!response.ok) return null;
    return await response.json();
  } catch {
    return null;
  }
}

/**
 * Offer the newest recording this person left unfinished in this browser, in the recorder's
 * reminder; kept: the token not to offer (the one just re-attached); busy(): whether the
 * recorder has started a recording meanwhile (then no reminder).
 */
export async function findUnfinished(root, kept, busy) {
  // Another open tab may still be recording: only what no tab touched lately counts,
  // by the same measure as the library's list of unfinished recordings.
  const quiet = Date.now() - (Number(root.dataset.unfinishedAfterMs) || 120_000);
  const list = readJSON(localStorage, UNFINISHED, []).filter(
    (e) =>
      e.token !== kept &&
      e.person === root.dataset.person &&
      e.token &&
      Date.parse(e.seenAt) < quiet,
  );
  let newest = null;
  for (const entry of list) {
    const { chunksUrl } = addressesOf(root.dataset.recordingsUrl, entry.token);
    const status = await serverState(chunksUrl);
    if (!status) continue; // the server did not answer: ask again on the next page
    if (status.state !== "recording" || !status.received || !status.received.length) {
      forget(entry.token);
    } else if (!newest || entry.startedAt > newest.startedAt) {
      newest = entry;
    }
  }
  if (!newest || busy()) return;
  const box = root.querySelector(".recorder-unfinished");
  box.dataset.token = newest.token;
  box.querySelector("time").dateTime = newest.startedAt;
  box.querySelector("time").textContent = when(newest.startedAt);
  box.hidden = false;
}

/** "Dismiss" on the reminder: it stays in the library; this browser just stops reminding. */
export function dismissUnfinished(root) {
  const box = root.querySelector(".recorder-unfinished");
  forget(box.dataset.token);
  box.hidden = true;
}
