// The trace panel: a live trace with a tcpdump filter, as `tapswitch trace` runs one. Each frame's
// path shows as the CLI prints it, heading first; the trace ends at its count, with Stop, or when
// the page goes, since its HTTP request then ends.
import { start } from './api.js';
import { $, el } from './dom.js';

let running = null;

export function setUpTrace(token) {
  $('#trace-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void runTrace(token);
  });
  $('#trace-stop').addEventListener('click', () => running?.abort());
}

async function runTrace(token) {
  const output = $('#trace-output');
  const state = $('#trace-state');
  const filter = $('#trace-filter').value.trim();
  const body = { filter, port: $('#trace-port').value, count: Number($('#trace-count').value) };
  running = new AbortController();
  $('#trace-start').disabled = true;
  $('#trace-stop').disabled = false;
  output.replaceChildren();
  state.textContent = 'starting…';
  let shown = 0;
  try {
    const res = await start('/api/trace', body, token, running.signal);
    state.textContent = `tracing the next ${body.count} frames${filter ? ` matching "${filter}"` : ''}…`;
    for await (const line of lines(res.body)) {
      if (line.block) {
        shown++;
        output.append(blockView(line.block, line.text));
      } else if (line.end) {
        state.textContent = `${line.end.traced} traced (${line.end.reason})${line.end.lost > 0 ? `, ${line.end.lost} events lost` : ''}`;
      } else if (line.error) {
        state.textContent = line.error;
      }
    }
  } catch (e) {
    state.textContent = e.name === 'AbortError' ? `stopped after ${shown} frames` : e.message;
  } finally {
    running = null;
    $('#trace-start').disabled = false;
    $('#trace-stop').disabled = true;
  }
}

/** A block's heading and fate stand out; the text is what `tapswitch trace` prints. */
function blockView(block, text) {
  const [heading, ...rest] = text.split('\n');
  return el('article', { className: `trace-block${block.complete ? '' : ' incomplete'}`, dataset: { ingress: block.ingress.name } }, el('h3', {}, heading), el('pre', {}, rest.join('\n')));
}

/** The JSON objects of a newline-delimited stream, as they come. */
async function* lines(stream) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += value;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line) yield JSON.parse(line);
    }
  }
}
