// Sending photos to POST /v1/remove: a small queue that keeps at most `limit` requests in flight (the
// server has a bounded worker pool; flooding it only earns 429s) and waits out 429 answers as the server's
// Retry-After asks.

/** An error answer of the server, carrying its message (or a plain description when it sent none). */
export class RemoveError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const MAX_BUSY_RETRIES = 20; // 429s in a row before giving up on one photo
const DEFAULT_RETRY_S = 1; // when a 429 carries no usable Retry-After

/** The seconds a Retry-After header asks for (delta-seconds or an HTTP date). */
export function retryAfterSeconds(header) {
  if (!header) return DEFAULT_RETRY_S;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const when = Date.parse(header);
  return Number.isNaN(when) ? DEFAULT_RETRY_S : Math.max(0, (when - Date.now()) / 1000);
}

// The server's JSON error {"error": {"status", "message"}}, else the status line.
async function errorFrom(xhr) {
  const fallback = `HTTP ${xhr.status}${xhr.statusText ? " " + xhr.statusText : ""}`;
  const text = xhr.response instanceof Blob ? await xhr.response.text() : "";
  try {
    const message = JSON.parse(text).error.message;
    return new RemoveError(xhr.status, message || fallback);
  } catch (parseError) {
    return new RemoveError(xhr.status, text && text.length < 300 ? `${fallback}: ${text}` : fallback);
  }
}

/**
 * One POST with upload progress (fetch cannot report it, XMLHttpRequest can).
 * @returns {Promise<{status: number, blob: Blob, retryAfter: string|null, xhr: XMLHttpRequest}>}
 */
function post(url, body, headers, onUploadProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.responseType = "blob";
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onUploadProgress(event.loaded / event.total);
    };
    xhr.upload.onload = () => onUploadProgress(1);
    xhr.onload = () => {
      const retryAfter = xhr.getResponseHeader("Retry-After");
      resolve({ status: xhr.status, blob: xhr.response, retryAfter, xhr });
    };
    xhr.onerror = () => reject(new RemoveError(0, "network error: the server could not be reached"));
    xhr.ontimeout = () => reject(new RemoveError(0, "the request timed out"));
    xhr.send(body);
  });
}

const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/**
 * Send one photo, retrying after 429 answers.
 * @param {object} job {url, makeBody: () => FormData, headers: () => object, onState(state, detail)};
 *   body and headers are made per attempt, so a key typed while the photo waited is used.
 * @returns {Promise<Blob>} the result image.
 */
export async function sendWithRetry(job) {
  for (let attempt = 0; ; attempt++) {
    job.onState("uploading", 0);
    const answer = await post(job.url, job.makeBody(), job.headers(), (fraction) =>
      job.onState(fraction < 1 ? "uploading" : "processing", fraction),
    );
    if (answer.status >= 200 && answer.status < 300) return answer.blob;
    if (answer.status !== 429 || attempt >= MAX_BUSY_RETRIES) throw await errorFrom(answer.xhr);
    const wait = retryAfterSeconds(answer.retryAfter);
    job.onState("waiting", wait);
    await sleep(wait);
  }
}

/** Runs async tasks with at most `limit` at a time, in the order they were added. */
export class TaskQueue {
  constructor(limit) {
    this.limit = limit;
    this.active = 0;
    this.pending = [];
  }

  /** Queue `task` (an async function); resolves or rejects with its outcome. */
  add(task) {
    return new Promise((resolve, reject) => {
      this.pending.push({ task, resolve, reject });
      this.pump();
    });
  }

  pump() {
    while (this.active < this.limit && this.pending.length > 0) {
      const { task, resolve, reject } = this.pending.shift();
      this.active++;
      task()
        .then(resolve, reject)
        .finally(() => {
          this.active--;
          this.pump();
        });
    }
  }
}
