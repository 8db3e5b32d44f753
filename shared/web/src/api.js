// The forecast API, seen from the page: same origin, relative to the page's own path (on AWS the
// page is at /<stage>/), with the API key from localStorage when the API asks for one.

const KEY_STORAGE = "stockcast.apiKey";

/** ApiError is an API answer that is not 2xx: status and the API's own message. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
  /** needsKey: API Gateway refused the request for want of a (valid) API key. */
  get needsKey() {
    return (this.status === 401 || this.status === 403) && this.body && typeof this.body.message === "string" && !("status" in this.body);
  }
}

export const apiKey = {
  get: () => localStorage.getItem(KEY_STORAGE) || "",
  set: (key) => (key ? localStorage.setItem(KEY_STORAGE, key) : localStorage.removeItem(KEY_STORAGE)),
};

/** base is the URL the API's paths are relative to: the page's folder. */
const base = new URL(".", location.href);

/** query builds a query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? "?" + s : "";
}

/** call requests path (relative, e.g. "forecast?product_id=P1") and returns its JSON. */
export async function call(path, { method = "GET", body, signal } = {}) {
  const headers = { Accept: "application/json" };
  const key = apiKey.get();
  if (key) headers["x-api-key"] = key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(new URL(path, base), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    cache: "no-store",
  });
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!resp.ok) {
    const message = (data && (data.error || data.message)) || `${resp.status} ${resp.statusText}`;
    throw new ApiError(resp.status, message, data);
  }
  return data;
}

/** putFile sends a file to a presigned URL with exactly the headers it was signed with. */
export async function putFile(upload, file) {
  const resp = await fetch(upload.url, { method: upload.method || "PUT", headers: upload.headers || {}, body: file });
  if (!resp.ok) {
    const text = await resp.text();
    const reason = /<Message>([^<]*)<\/Message>/.exec(text);
    throw new Error(`the storage refused the file (${resp.status}${reason ? ": " + reason[1] : ""})`);
  }
}
