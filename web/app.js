// The tapswitch web view: reads the switch once, then follows its counters through server-sent
// events (one each second) and refreshes the topology and tables while the page is open. Tracing
// and capturing need the token from the link `tapswitch ui` prints; without it the page only reads.
import { getJson, takeToken } from './api.js';
import { setUpCapture } from './capture.js';
import { $ } from './dom.js';
import { showDrops } from './drops.js';
import { showRates } from './rates.js';
import { conntrackRow, fdbRow, searchable } from './tables.js';
import { showTopology } from './topology.js';
import { setUpTrace } from './trace.js';

const REFRESH_MS = 2000;

const token = takeToken();
$('#access').textContent = token ? 'trace and capture enabled' : 'read-only: open the link `tapswitch ui` prints to trace and capture';
for (const id of ['#trace-start', '#capture-button']) $(id).disabled = !token;
setUpTrace(token);
setUpCapture(token);

const showFdb = searchable('fdb', fdbRow);
const showConntrack = searchable('conntrack', conntrackRow);
const reasons = await getJson('/api/drop-reasons');

async function refresh() {
  try {
    const [view, fdb, conntrack] = await Promise.all([getJson('/api/switch'), getJson('/api/fdb'), getJson('/api/conntrack')]);
    showTopology(view);
    showFdb(fdb);
    showConntrack(conntrack);
  } catch (e) {
    $('#switch-summary').textContent = `cannot read the switch: ${e.message}`;
  }
}

await refresh();
setInterval(() => void refresh(), REFRESH_MS);

const events = new EventSource('/api/events');
events.addEventListener('counters', (event) => {
  const sample = JSON.parse(event.data);
  showRates(sample);
  showDrops(reasons, sample);
});
events.addEventListener('error', () => {
  $('#feed-state').textContent = 'disconnected: the switch is stopping or restarting; reconnecting…';
});
