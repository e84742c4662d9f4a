// The tapswitch web view: reads the switch once, then follows its counters through server-sent
// events (one each second), and reads the FDB and conntrack tables again every two seconds while
// the page is in view. Tracing and capturing need the token from the link `tapswitch ui` prints;
// without it the page only reads.
import { getJson, takeToken } from './api.js';
import { setUpCapture } from './capture.js';
import { $ } from './dom.js';
import { showDrops } from './drops.js';
import { showRates } from './rates.js';
import { conntrackRow, fdbRow, searchable } from './tables.js';
import { showTopology } from './topology.js';
import { setUpTrace } from './trace.js';

const TABLES_MS = 2000;
// Reading the ports' links asks the kernel (a process per port), so the topology is read again only
// when the counters show other ports, and now and then for link states and published ports.
const TOPOLOGY_MS = 30_000;

const token = takeToken();
$('#access').textContent = token ? 'trace and capture enabled' : 'read-only: open the link `tapswitch ui` prints to trace and capture';
for (const id of ['#trace-start', '#capture-button']) $(id).disabled = !token;
setUpTrace(token);
setUpCapture(token);

const showFdb = searchable('fdb', fdbRow);
const showConntrack = searchable('conntrack', conntrackRow);
const reasons = await getJson('/api/drop-reasons');

async function refresh(what) {
  if (document.hidden && what !== 'topology') return;
  try {
    if (what === 'topology') {
      showTopology(await getJson('/api/switch'));
    } else {
      const [fdb, conntrack] = await Promise.all([getJson('/api/fdb'), getJson('/api/conntrack')]);
      showFdb(fdb);
      showConntrack(conntrack);
    }
  } catch (e) {
    $('#switch-summary').textContent = `cannot read the switch: ${e.message}`;
  }
}

await Promise.all([refresh('topology'), refresh('tables')]);
setInterval(() => void refresh('tables'), TABLES_MS);
setInterval(() => void refresh('topology'), TOPOLOGY_MS);

let portsCounted;
const events = new EventSource('/api/events');
events.addEventListener('counters', (event) => {
  const sample = JSON.parse(event.data);
  // A port attached, detached or renamed since the last second: the topology changed.
  const ports = sample.ports.map((p) => p.label).join(' ');
  if (portsCounted !== undefined && ports !== portsCounted) void refresh('topology');
  portsCounted = ports;
  showRates(sample);
  showDrops(reasons, sample);
});
events.addEventListener('error', () => {
  $('#feed-state').textContent = 'disconnected: the switch is stopping or restarting; reconnecting…';
});
