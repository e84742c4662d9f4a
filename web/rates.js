// The rates panel: each port's rx/tx packets and bits per second from the once-a-second counters
// event, with a bar against the busiest port.
import { $, el, fillRows } from './dom.js';
import { bits, si } from './format.js';

export function showRates(sample) {
  const busiest = Math.max(1, ...sample.ports.map((p) => p.rxBps + p.txBps));
  fillRows(
    $('#rates tbody'),
    sample.ports.map((p) =>
      el(
        'tr',
        { dataset: { port: p.label } },
        el('td', {}, p.label),
        el('td', { className: 'num rx-pps' }, si(p.rxPps)),
        el('td', { className: 'num rx-bps' }, bits(p.rxBps)),
        el('td', { className: 'num tx-pps' }, si(p.txPps)),
        el('td', { className: 'num tx-bps' }, bits(p.txBps)),
        el('td', { className: 'num' }, si(p.dropped)),
        el('td', { className: 'bar-cell' }, el('div', { className: 'bar', style: { width: `${((100 * (p.rxBps + p.txBps)) / busiest).toFixed(1)}%` } })),
      ),
    ),
  );
  $('#feed-state').textContent = `updated ${new Date(sample.time).toLocaleTimeString()}`;
}
