// The capture panel: the next N frames (of a port, matching a filter) as a pcapng file to download,
// captured as `tapswitch capture -w` captures them. Cancel, or leaving the page, ends the capture.
import { start } from './api.js';
import { $, el } from './dom.js';

let running = null;

export function setUpCapture(token) {
  $('#capture-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void runCapture(token);
  });
  $('#capture-cancel').addEventListener('click', () => running?.abort());
}

async function runCapture(token) {
  const state = $('#capture-state');
  const body = { filter: $('#capture-filter').value.trim(), port: $('#capture-port').value, count: Number($('#capture-count').value) };
  running = new AbortController();
  $('#capture-button').disabled = true;
  $('#capture-cancel').disabled = false;
  state.textContent = 'starting…';
  try {
    // The answer's headers come once the daemon captures, with the file's first bytes.
    const res = await start('/api/capture', body, token, running.signal);
    state.textContent = `capturing the next ${body.count} frames…`;
    const file = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? 'capture.pcapng';
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const link = el('a', { href: url, download: file });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    state.textContent = `${file}: ${blob.size} bytes`;
  } catch (e) {
    state.textContent = e.name === 'AbortError' ? 'cancelled' : e.message;
  } finally {
    running = null;
    $('#capture-button').disabled = false;
    $('#capture-cancel').disabled = true;
  }
}
