// The API client: every call goes to Kestra's tenant path with the
// credentials the login form stored for this tab (sessionStorage), and the
// X-Requested-With header that stops the browser's own auth dialog.

const BASE = '/api/v1/main';
const KEY = 'osprey.auth';

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

export function login(user, pass) { sessionStorage.setItem(KEY, btoa(unescape(encodeURIComponent(user + ':' + pass)))); }
export function logout() { sessionStorage.removeItem(KEY); }
export function loggedIn() { return !!sessionStorage.getItem(KEY); }

function headers(extra) {
  const h = { 'X-Requested-With': 'XMLHttpRequest', ...extra };
  const a = sessionStorage.getItem(KEY);
  if (a) h.Authorization = 'Basic ' + a;
  return h;
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || 'HTTP ' + status);
    this.status = status;
    this.body = body;
  }
}

// api calls path (relative to /api/v1/main) and returns the decoded JSON,
// or null for an empty answer. A 401 asks the app for a login.
export async function api(path, { method = 'GET', body, type, signal } = {}) {
  const h = {};
  let payload = body;
  if (body !== undefined && !(body instanceof FormData)) {
    if (type) h['Content-Type'] = type;
    else { h['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  }
  const res = await fetch(BASE + path, { method, headers: headers(h), body: payload, signal });
  const text = await res.text();
  let data = null;
  if (text) { try { data = JSON.parse(text); } catch { data = { message: text }; } }
  if (res.status === 401) { onUnauthorized(); }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

// raw returns the body of a GET as text (namespace files).
export async function raw(path) {
  const res = await fetch(BASE + path, { headers: headers({}) });
  if (res.status === 401) { onUnauthorized(); }
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
  return res.text();
}

// stream reads a server-sent event stream through fetch (EventSource
// cannot send credentials) and calls onEvent(id, data) for each event.
// It resolves when the stream ends or signal aborts.
export async function stream(path, onEvent, signal) {
  const res = await fetch(BASE + path, { headers: headers({ Accept: 'text/event-stream' }), signal });
  if (res.status === 401) { onUnauthorized(); }
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let id = '', data = '';
        for (const line of chunk.split('\n')) {
          if (line.startsWith('id:')) id = line.slice(3).trim();
          else if (line.startsWith('data:')) data += line.slice(5).trim();
        }
        if (data) onEvent(id, JSON.parse(data));
      }
    }
  } catch (e) {
    if (e.name !== 'AbortError') throw e;
  }
}

export const enc = encodeURIComponent;
