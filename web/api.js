// Talking to the daemon's web view: JSON reads, and the token that starting a trace or a capture
// needs. The token comes in the link `tapswitch ui` prints, after the #, which the browser never
// sends to a server; the page keeps it for this tab and takes it out of the address bar.

const TOKEN_KEY = 'tapswitch-token';

export function takeToken() {
  const match = /(?:^|&)token=([^&]+)/.exec(location.hash.slice(1));
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

export async function getJson(path) {
  const res = await fetch(path, { cache: 'no-store' });
  if (!res.ok) throw new Error(await errorOf(res));
  return res.json();
}

/** Starts a trace or capture: POST with the token; the caller reads the streamed answer. */
export async function start(path, body, token, signal) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal,
  });
  if (!res.ok) throw new Error(await errorOf(res));
  return res;
}

async function errorOf(res) {
  try {
    return (await res.json()).error ?? `${res.status} ${res.statusText}`;
  } catch {
    return `${res.status} ${res.statusText}`;
  }
}
