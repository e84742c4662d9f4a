// The drops panel: each reason that dropped a frame, its stage, its count over every port, and
// what it means (the descriptions `tapswitch stats --reasons` lists).
import { $, el, fillRows } from './dom.js';

export function showDrops(reasons, sample) {
  const rows = reasons
    .filter((r) => (sample.drops[r.reason] ?? 0) > 0)
    .sort((a, b) => sample.drops[b.reason] - sample.drops[a.reason])
    .map((r) => el('tr', { dataset: { reason: r.reason } }, el('td', { className: 'mono' }, r.reason), el('td', {}, r.stage), el('td', { className: 'num' }, sample.drops[r.reason]), el('td', {}, r.description)));
  fillRows($('#drops tbody'), rows);
  $('#drops-none').hidden = rows.length > 0;
}
