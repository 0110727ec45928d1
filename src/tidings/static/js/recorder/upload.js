// The upload of one recording, piece by piece, while it is being made: each piece is sent
// with its SHA-256, at most two at a time, retried with backoff, and re-sent after a network
// drop once the server has said which pieces it holds.

const MAX_IN_FLIGHT = 2;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 20_000;
// After this many failed tries of one piece, ask the server what it holds before going on.
const RESYNC_AFTER = 3;
// A 400 is a checksum mismatch (bytes damaged on the way); more than this is not transient.
const MAX_MISMATCHES = 5;
const REQUEST_TIMEOUT_MS = 120_000;

export class UploadError extends Error {}

/** The addresses of one recording under the API's base (the recorder's data-recordings-url). */
export function addressesOf(recordingsUrl, token) {
  const url = `${recordingsUrl}/${token}`;
  return { url, chunksUrl: `${url}/chunks` };
}

// The API answers errors as {detail}; an invalid field adds {errors: [{field, message}]},
// whose message is the sentence without the field's name in front.
async function errorSentence(response, fallback) {
  try {
    const data = await response.json();
    const first = data && Array.isArray(data.errors) ? data.errors[0] : null;
    if (first && typeof first.message === "string") return first.message;
    if (data && typeof data.detail === "string") return data.detail;
  } catch {
    // Not JSON (a proxy's error page): the fallback says enough.
  }
  return fallback;
}

async function sha256Hex(blob) {
  // crypto.subtle exists only in secure contexts; the checksum header is optional.
  if (!window.crypto || !window.crypto.subtle) return "";
  const digest = await window.crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export class RecordingUpload extends EventTarget {
  constructor({ recordingsUrl, csrfToken }) {
    super();
    this.recordingsUrl = recordingsUrl;
    this.csrfToken = csrfToken;
    this.token = "";
    // index -> {blob, sha, state: pending|sending|done, tries, retryAt, mismatches}
    this.pieces = new Map();
    this.inFlight = 0;
    this.error = "";
    this.offline = !navigator.onLine;
    this.retrying = false;
    this.resyncing = null;
    this.timer = 0;
    this.closed = false;
    this.onOffline = () => {
      this.offline = true;
      this.changed();
    };
    this.onOnline = () => {
      this.offline = false;
      this.resync().then(() => this.pump());
    };
    window.addEventListener("offline", this.onOffline);
    window.addEventListener("online", this.onOnline);
  }

  // Every call sends the page's CSRF token: changes need it, and with it a signed-out
  // session is answered with a sentence that says so.
  headers(extra = {}) {
    return { "X-CSRFToken": this.csrfToken, Accept: "application/json", ...extra };
  }

  get addresses() {
    return addressesOf(this.recordingsUrl, this.token);
  }

  /** Ask the server for a new recording; resolves with its answer (token, limits). */
  async start(fields) {
    let response;
    try {
      response = await fetch(this.recordingsUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: this.headers({ "Content-Type": "application/json" }),
        body: JSON.stringify(fields),
      });
    } catch {
      throw new UploadError(
        "The server could not be reached. Check the connection and try again.",
      );
    }
    if (response.status !== 201) {
      throw new UploadError(
        await errorSentence(
          response,
          "The recording could not be started. Reload the page and try again.",
        ),
      );
    }
    const info = await response.json();
    this.adopt({ token: info.token });
    this.pump();
    return info;
  }

  /** Take over a recording the server already holds (its token from `start`). */
  adopt({ token }) {
    this.token = token;
    return this;
  }

  add(index, blob) {
    const piece = { blob, sha: null, state: "pending", tries: 0, retryAt: 0, mismatches: 0 };
    this.pieces.set(index, piece);
    this.changed();
    this.pump();
  }

  get count() {
    return this.pieces.size;
  }

  get totalBytes() {
    let total = 0;
    for (const piece of this.pieces.values()) total += piece.blob.size;
    return total;
  }

  get savedBytes() {
    let saved = 0;
    for (const piece of this.pieces.values()) {
      if (piece.state === "done") saved += piece.blob.size;
    }
    return saved;
  }

  get unsaved() {
    let count = 0;
    for (const piece of this.pieces.values()) if (piece.state !== "done") count += 1;
    return count;
  }

  /** One of: failed, offline, retrying, saving, saved. */
  get state() {
    if (this.error) return "failed";
    if (this.offline && this.unsaved) return "offline";
    if (this.retrying && this.unsaved) return "retrying";
    return this.unsaved ? "saving" : "saved";
  }

  changed() {
    this.dispatchEvent(new Event("change"));
  }

  fail(sentence) {
    this.error = sentence;
    this.changed();
  }

  pump() {
    if (!this.token || this.error || this.offline || this.closed) return;
    const now = Date.now();
    let nextRetry = Infinity;
    // Lowest index first: the first piece holds the header the rest depend on.
    const waiting = [...this.pieces.entries()]
      .filter(([, piece]) => piece.state === "pending")
      .sort(([a], [b]) => a - b);
    for (const [index, piece] of waiting) {
      if (this.inFlight >= MAX_IN_FLIGHT) break;
      if (piece.retryAt > now) {
        nextRetry = Math.min(nextRetry, piece.retryAt);
        continue;
      }
      this.send(index, piece);
    }
    clearTimeout(this.timer);
    if (nextRetry !== Infinity) this.timer = setTimeout(() => this.pump(), nextRetry - now);
  }

  async send(index, piece) {
    piece.state = "sending";
    this.inFlight += 1;
    let outcome;
    try {
      if (piece.sha === null) piece.sha = await sha256Hex(piece.blob);
      const headers = this.headers({ "Content-Type": "application/octet-stream" });
      if (piece.sha) headers["X-Chunk-SHA256"] = piece.sha;
      const response = await fetch(`${this.addresses.chunksUrl}/${index}`, {
        method: "PUT",
        credentials: "same-origin",
        headers,
        body: piece.blob,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      outcome = await this.judge(response, piece);
    } catch {
      outcome = "retry"; // network error or timeout
    }
    this.inFlight -= 1;
    if (piece.state !== "sending") {
      // A resync settled this piece while the request was out.
    } else if (outcome === "done") {
      piece.state = "done";
      piece.tries = 0;
      this.retrying = [...this.pieces.values()].some((p) => p.tries > 0);
    } else if (outcome === "retry") {
      piece.tries += 1;
      piece.state = "pending";
      // Exponential backoff with jitter, so many clients do not come back in step.
      const delay = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (piece.tries - 1));
      piece.retryAt = Date.now() + delay / 2 + Math.random() * (delay / 2);
      this.retrying = true;
      if (piece.tries % RESYNC_AFTER === 0) await this.resync();
    } else {
      piece.state = "pending";
      this.fail(outcome.error);
    }
    this.changed();
    this.pump();
  }

  async judge(response, piece) {
    if (response.status === 200 || response.status === 201) return "done";
    const { status } = response;
    if (status >= 500 || status === 429 || status === 408) return "retry";
    if (response.status === 400) {
      piece.mismatches += 1;
      if (piece.mismatches < MAX_MISMATCHES) return "retry";
    }
    return {
      error: await errorSentence(
        response,
        "The server refused part of this recording. Discard it and record again.",
      ),
    };
  }

  /** Ask the server which pieces it holds; whatever it lacks is sent again. */
  resync() {
    if (!this.token) return Promise.resolve();
    if (!this.resyncing) {
      this.resyncing = this.fetchReceived()
        .then((received) => {
          if (!received) return;
          for (const [index, piece] of this.pieces) {
            if (received.has(index)) {
              if (piece.state !== "done") {
                piece.state = "done";
                piece.tries = 0;
              }
            } else if (piece.state === "done") {
              piece.state = "pending";
              piece.retryAt = 0;
            }
          }
          this.changed();
        })
        .finally(() => {
          this.resyncing = null;
        });
    }
    return this.resyncing;
  }

  async fetchReceived() {
    try {
      const response = await fetch(this.addresses.chunksUrl, {
        credentials: "same-origin",
        headers: this.headers(),
      });
      if (!response.ok) return null;
      const data = await response.json();
      return new Set(data.received);
    } catch {
      return null;
    }
  }

  /** Resolve once the server holds every piece (checked with the server's own list). */
  finish() {
    return new Promise((resolve, reject) => {
      let checking = false;
      const check = async () => {
        if (this.error) {
          this.removeEventListener("change", check);
          reject(new UploadError(this.error));
          return;
        }
        if (this.unsaved || this.inFlight || checking || !this.token) return;
        checking = true;
        await this.resync();
        checking = false;
        if (this.unsaved) {
          this.pump();
          return;
        }
        this.removeEventListener("change", check);
        resolve(this.count);
      };
      this.addEventListener("change", check);
      if (this.offline) return; // the "online" handler resyncs, and its change calls check
      this.resync().then(() => {
        this.pump();
        check();
      });
    });
  }

  /** Stop sending. */
  close() {
    this.closed = true;
    clearTimeout(this.timer);
    window.removeEventListener("offline", this.onOffline);
    window.removeEventListener("online", this.onOnline);
  }

  /** Stop sending and ask the server to delete what it holds. */
  async discard() {
    this.close();
    if (!this.token) return;
    try {
      await fetch(this.addresses.url, {
        method: "DELETE",
        credentials: "same-origin",
        headers: this.headers(),
      });
    } catch {
      // Left on the server, it shows in the library as unfinished; nothing is lost.
    }
  }
}

// --- how the upload stands, in words ----------------------------------------------------------

export function piecesLabel(count) {
  return count === 1 ? "1 piece" : `${count} pieces`;
}

/** The recorder's badge beside the timer: [text, tone] for an upload that has pieces. */
export function uploadState(upload, { recording }) {
  const state = upload.state;
  if (state === "failed") return ["Not saved", "bad"];
  if (state === "offline") return ["Offline — will resume", "warn"];
  if (state === "retrying") return [`Retrying ${piecesLabel(upload.unsaved)}…`, "warn"];
  // While recording, the one piece on its way each second is not worth a flicker.
  if (state === "saving" && !(recording && upload.unsaved < 2)) {
    return [`Saving ${piecesLabel(upload.unsaved)}…`, ""];
  }
  return ["All saved", "ok"];
}

/** What the progress bar says while a post waits for its recording's last pieces. */
export function postingState(upload, { file }) {
  const total = upload.totalBytes || 1;
  const left = upload.unsaved;
  const fraction = upload.savedBytes / total;
  let text = "Posting…";
  if (upload.state === "offline") {
    text = "Offline: the post goes out as soon as the connection is back.";
  } else if (left && file) {
    text = `Uploading: ${Math.floor(fraction * 100)}%; it posts when the upload is done.`;
  } else if (left) {
    text = `Saving the last ${piecesLabel(left)} before posting…`;
  }
  return [fraction, text];
}
