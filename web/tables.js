// The FDB and conntrack panels: the tables as the daemon answers `fdb show` and `nat conntrack`,
// filtered by what the search box holds (every word must appear in the row), at most MAX_ROWS shown.
import { $, el, fillRows } from './dom.js';

const MAX_ROWS = 500;

function matching(rows, query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return rows.filter((row) => words.every((w) => row.text.includes(w)));
}

/** A table fed by `show`, refiltered as its search box changes. */
export function searchable(name, render) {
  let rows = [];
  const input = $(`#${name}-search`);
  const draw = () => {
    const shown = matching(rows, input.value);
    fillRows($(`#${name} tbody`), shown.slice(0, MAX_ROWS).map((row) => row.node));
    $(`#${name}-count`).textContent = shown.length === rows.length ? `${rows.length}` : `${shown.length} of ${rows.length}`;
  };
  input.addEventListener('input', draw);
  return (entries) => {
    rows = entries.map(render).map(({ cells, key }) => ({ node: el('tr', { dataset: { key } }, cells.map((c) => el('td', {}, c))), text: cells.join(' ').toLowerCase() }));
    draw();
  };
}

export function fdbRow(e) {
  const kind = e.static ? 'static' : e.sticky ? 'sticky' : 'learned';
  return { key: `${e.mac}/${e.vlan}`, cells: [e.mac, e.vlan === 0 ? '–' : String(e.vlan), e.portName, kind, e.static ? '–' : e.ageSeconds.toFixed(1)] };
}

function ends(t, protocol) {
  return protocol === 'icmp' ? `${t.src} → ${t.dst} id ${t.sport}` : `${t.src}:${t.sport} → ${t.dst}:${t.dport}`;
}

export function conntrackRow(e) {
  const flags = [e.state, e.unreplied ? 'UNREPLIED' : undefined, e.assured ? 'ASSURED' : undefined].filter(Boolean).join(' ');
  return { key: `${e.protocol} ${ends(e.original, e.protocol)}`, cells: [e.protocol, ends(e.original, e.protocol), ends(e.reply, e.protocol), flags || '–', String(e.timeout)] };
}
