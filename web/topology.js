// The topology panel: the switch, its ports with their namespaces, addresses and VLANs, and the
// uplink with the ports published on it.
import { $, el, fillRows } from './dom.js';

export function showTopology(view) {
  $('#switch-name').textContent = view.switch;
  $('#switch-summary').textContent = `subnet ${view.subnet}, gateway ${view.gateway.ip}, ${view.workers.length} worker${view.workers.length === 1 ? '' : 's'}, up ${view.uptimeSeconds} s, pid ${view.pid}`;
  fillRows(
    $('#ports tbody'),
    view.ports.map((p) =>
      el('tr', { dataset: { port: p.label } }, el('td', {}, p.label), el('td', {}, p.netns ?? '–'), el('td', {}, p.ifname), el('td', {}, p.ip ?? '–'), el('td', { className: 'mono' }, p.mac ?? '–'), el('td', {}, p.vlanText), el('td', {}, p.state)),
    ),
  );
  $('#uplink').replaceChildren(...uplinkLines(view));
  for (const select of [$('#trace-port'), $('#capture-port')]) keepOptions(select, view.ports.map((p) => p.label));
}

function uplinkLines(view) {
  if (!view.uplink) return [el('p', { className: 'muted' }, 'no uplink: the switch reaches nothing beyond its subnet')];
  const u = view.uplink;
  const lines = [el('p', {}, el('strong', {}, 'uplink '), `${u.name}${u.netns ? ` in ${u.netns}` : ''}, ${u.ip}/${u.prefix} via ${u.via}; the subnet leaves masqueraded as ${u.ip}`)];
  if (view.published.length > 0) {
    lines.push(
      el(
        'ul',
        { id: 'published' },
        view.published.map((p) => el('li', {}, `${p.protocol} ${p.uplinkIp ?? u.ip}:${p.hostPort}${p.count > 1 ? `-${p.hostPort + p.count - 1}` : ''} → ${p.netns} ${p.ip}:${p.port}`)),
      ),
    );
  }
  return lines;
}

/** The port choices of a select, keeping what the user picked. */
function keepOptions(select, labels) {
  const chosen = select.value;
  select.replaceChildren(el('option', { value: 'all' }, 'all'), ...labels.map((label) => el('option', { value: label }, label)));
  select.value = labels.includes(chosen) ? chosen : 'all';
}
