// A switch's counters as Prometheus families. Everything comes from Switch.stats(), which reads the
// counters, the FDB and the conntrack table where the workers keep them, in shared memory: a scrape
// sends the workers nothing and waits for none of them. Every drop reason is written for every
// port, zeros too, so a rate starts at the first frame dropped, not at the second scrape after it.
// The kernel's drops at a TAP are left to `tapswitch stats`: reading them runs `ip` in the
// namespace, too much to do every second.
import { DROP_REASON_INFO } from '../dataplane/core/drop-reasons.js';
import { KERNEL_DROP_INFO } from '../switch/kernel-counters.js';
import type { Switch } from '../switch/switch.js';
import { ExpositionWriter, type Labels, type MetricType, type Sample } from './exposition.js';

/** What the families are read from: a daemon is one (DaemonContext). */
export interface MetricsSource {
  /** The switch's name, the `switch` label of every sample. */
  readonly name: string;
  readonly sw: Switch;
  /** The name a user knows a port by: its namespace, its interface, uplink or gateway. */
  portLabel(id: number): string;
}

const US_PER_SECOND = 1e6;

/** The exposition of one switch, read now. */
export function switchExposition(source: MetricsSource): string {
  const stats = source.sw.stats();
  const sw = { switch: source.name };
  const writer = new ExpositionWriter();
  const family = (name: string, type: MetricType, help: string, samples: Sample[]): void => writer.family(`tapswitch_${name}`, type, help, samples);
  const one = (labels: Labels, value: number): Sample[] => [{ labels, value }];

  const ports = stats.ports.map((p) => ({ p, labels: { ...sw, port: source.portLabel(p.id) } }));
  const perPort = (name: string, help: string, value: (p: (typeof stats.ports)[number]) => number): void =>
    family(name, 'counter', help, ports.map(({ p, labels }) => ({ labels, value: value(p) })));
  perPort('port_rx_packets_total', 'Frames the switch read from the port.', (p) => p.rxPackets);
  perPort('port_rx_bytes_total', 'Bytes of the frames the switch read from the port.', (p) => p.rxBytes);
  perPort('port_tx_packets_total', 'Frames the switch wrote to the port.', (p) => p.txPackets);
  perPort('port_tx_bytes_total', 'Bytes of the frames the switch wrote to the port.', (p) => p.txBytes);
  perPort('port_rx_errors_total', "Failed reads of the port's queues.", (p) => p.rxErrors);
  perPort('port_learn_limited_total', 'Source MACs not learned because the port held its most learned entries.', (p) => p.learnLimited);
  family(
    'port_drops_total',
    'counter',
    'Frames the switch dropped, by the port they came in on or were going out of, and by reason; tapswitch_drop_reason_info describes each reason.',
    ports.flatMap(({ p, labels }) => DROP_REASON_INFO.map(({ reason }) => ({ labels: { ...labels, reason }, value: p.drops[reason] }))),
  );
  family(
    'drops_total',
    'counter',
    "Frames the switch dropped, by reason, over every worker: tapswitch stats' drops, with those of ports removed since and of the gateway's.",
    DROP_REASON_INFO.map(({ reason }) => ({ labels: { ...sw, reason }, value: stats.workers.reduce((n, w) => n + w.drops[reason], 0) })),
  );
  family(
    'port_kernel_drops_total',
    'counter',
    "Frames the kernel dropped because an AF_PACKET port's receive buffer was full (PACKET_STATISTICS), not counted in tapswitch_port_drops_total.",
    ports.flatMap(({ p, labels }) => (p.kernelDrops?.socket_buffer_full !== undefined ? [{ labels: { ...labels, reason: 'socket_buffer_full' }, value: p.kernelDrops.socket_buffer_full }] : [])),
  );
  family('drop_reason_info', 'gauge', 'Each drop reason, the kernel\'s too, with the stage that drops for it and what it means; always 1.', [...DROP_REASON_INFO, ...KERNEL_DROP_INFO].map(({ reason, stage, description }) => ({ labels: { reason, stage, description }, value: 1 })));

  const workers = stats.workers.map((w) => ({ w, labels: { ...sw, worker: String(w.worker) } }));
  const perWorker = (name: string, type: MetricType, help: string, value: (w: (typeof stats.workers)[number]) => number): void =>
    family(name, type, help, workers.map(({ w, labels }) => ({ labels, value: value(w) })));
  perWorker('worker_processed_total', 'counter', 'Frames the worker processed.', (w) => w.processed);
  perWorker('worker_dropped_total', 'counter', 'Frames the worker dropped, for any reason.', (w) => w.dropped);
  perWorker('worker_time_squeeze_total', 'counter', 'Rounds that ended with work left, as time_squeeze in /proc/net/softnet_stat.', (w) => w.timeSqueeze);
  perWorker('worker_backlog_frames', 'gauge', 'Frames waiting in the backlog of the worker now, for egress queues that were busy.', (w) => w.backlog);
  perWorker('worker_backlog_drops_total', 'counter', 'Frames dropped because the backlog was full (backlog_full, like netdev_max_backlog).', (w) => w.drops.backlog_full);
  perWorker('worker_forwarding_seconds_total', 'counter', 'Time in rounds that moved frames.', (w) => w.forwardingUs / US_PER_SECOND);
  perWorker('worker_polling_seconds_total', 'counter', 'Time in rounds that moved nothing while not parked.', (w) => w.pollingUs / US_PER_SECOND);
  perWorker('worker_sleeping_seconds_total', 'counter', 'Time parked in epoll_wait.', (w) => w.sleepingUs / US_PER_SECOND);
  perWorker('worker_restarts_total', 'counter', 'Times the worker died and was started again.', (w) => w.restarts);

  const f = stats.fdb;
  family('fdb_entries', 'gauge', 'Entries in the forwarding database, static ones too.', one(sw, f.entries));
  family('fdb_entries_max', 'gauge', 'Most entries the forwarding database holds (--fdb-size).', one(sw, source.sw.fdb.size));
  family('fdb_learned_total', 'counter', 'Source MACs learned.', one(sw, f.learned));
  family('fdb_moves_total', 'counter', 'Learned MACs that moved to another port.', one(sw, f.moves));
  family('fdb_evictions_total', 'counter', 'Learned entries evicted to make room for a new one.', one(sw, f.evictions));
  family('fdb_aged_total', 'counter', 'Learned entries that aged out.', one(sw, f.aged));

  const c = stats.conntrack;
  if (c) {
    family('conntrack_sessions', 'gauge', 'NAT sessions in the conntrack table.', one(sw, c.entries));
    family('conntrack_sessions_max', 'gauge', 'Most NAT sessions the table holds (--conntrack-max).', one(sw, c.max));
    family('conntrack_created_total', 'counter', 'NAT sessions created.', one(sw, c.created));
    family('conntrack_expired_total', 'counter', 'NAT sessions that timed out.', one(sw, c.expired));
    family('conntrack_full_drops_total', 'counter', 'New flows dropped because the conntrack table was full (conntrack_full).', one(sw, c.full));
    family('conntrack_early_drops_total', 'counter', 'Sessions evicted early to make room for new flows.', one(sw, c.earlyDrops));
    family('conntrack_host_limit_drops_total', 'counter', 'New flows dropped because their inside host held its most sessions (conntrack_host_limit).', one(sw, c.hostLimited));
  }

  family('capture_copies_dropped_total', 'counter', 'Copies of frames a capture lost because its ring was full; forwarding never waits for a capture.', one(sw, source.sw.captureCopiesDropped()));

  return writer.text();
}
