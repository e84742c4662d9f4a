// The switch's options: what each means, its default, and the range a value must be in.
import { resolveStp, type StpOptions } from '../stp/options.js';
import { availableParallelism } from 'node:os';

import type { CtTimeouts } from '../dataplane/l3/conntrack.js';
import type { NatFiltering } from '../dataplane/l3/nat-filtering.js';
import { VID_MAX, VLAN_UNTAGGED } from '../dataplane/l2/vlan-table.js';
import { parseLinkLocal } from '../dataplane/l2/link-local.js';
import { DEFAULT_POLL_CPU, DEFAULT_POLL_US, POLL_CPU, POLL_MODES, POLL_US, type PollMode, type PollSettings } from '../dataplane/core/poll-policy.js';

export interface SwitchOptions {
  /** Forwarding worker threads (default: the number of CPUs). */
  workers?: number;
  /** Most FDB entries (default 8192). */
  fdbSize?: number;
  /** Seconds before an unrefreshed learned entry ages out; 0: never (default 300). */
  ageingSeconds?: number;
  /** Frames per queue per poll (default 64). */
  weight?: number;
  /** Frames per round over all queues (default 300). */
  roundBudget?: number;
  /** Milliseconds per round (default 2). */
  roundTimeMs?: number;
  /** Frames per worker waiting for a busy egress (default 1000). */
  backlog?: number;
  /** Virtio header and TSO/checksum offloads on TAP and AF_PACKET ports (default true). */
  offloads?: boolean;
  /**
   * How an idle worker waits (default 'sleep'): sleep parks in epoll_wait after a round that found
   * nothing; busy never parks, a core at 100% per worker; adaptive polls on for pollUs after the last
   * frame, then parks, its idle polling held to pollCpu percent of a core.
   */
  poll?: PollMode;
  /** adaptive: microseconds of polling after the last frame (default 200). */
  pollUs?: number;
  /** adaptive: most percent of a core spent polling with nothing to do, over about 100 ms (default 50). */
  pollCpu?: number;
  /** Pin worker i to CPU i modulo the CPU count (default false). */
  pinWorkers?: boolean;
  /**
   * The switch's own IPv4 address, which answers ARP and ping and sends ICMP errors for what it
   * cannot route; its MAC defaults to Docker's rule (02:42 and the address). None by default.
   * `prefix` (default 24) makes ip/prefix the subnet behind it, which nothing from outside comes from.
   */
  gateway?: { ip: string; mac?: string; prefix?: number } | null;
  /**
   * The VLAN the gateway lives on: its MAC is known there only, and the frames it makes belong to
   * it. 0 (the default) is the untagged domain of ports in mode all; else a VLAN id, 1-4094.
   */
  gatewayVlan?: number;
  /** The NAT's connection tracking, used once the switch has a gateway and an uplink. */
  conntrack?: {
    /** Most sessions (default 65536); new flows beyond it are dropped as conntrack_full. */
    max?: number;
    /** Seconds, named like the nf_conntrack_*_timeout sysctls. */
    timeouts?: Partial<CtTimeouts>;
    /** Masquerade ports when a source port is taken (default 1024..65535). */
    portRange?: [number, number];
    /** Most sessions per inside host (default a quarter of max; 0: no limit); beyond it, conntrack_host_limit. */
    maxPerHost?: number;
    /** Which outside hosts may send to a mapping: endpoint (any), address (those it sent to), address-port (default, as Linux). */
    filtering?: NatFiltering;
  };
  /**
   * Link-local frames (to 01:80:C2:00:00:00..0F) to forward, flooded as multicast: names (stp,
   * mac_control, lacp, 8021x, lldp, all), a list of them as `tapswitch up --forward-link-local`
   * takes it ('stp,lldp'), or a mask like the bridge's group_fwd_mask, bit n for 01:80:C2:00:00:0n
   * (0x4001). Default none: they are dropped as link_local, as a Linux bridge keeps them to their link.
   */
  forwardLinkLocal?: number | string | readonly string[];
  /** Run IEEE 802.1D spanning tree on the bridged ports (stp/), with these settings or the defaults (true); default off. */
  stp?: boolean | StpOptions;
  /**
   * Lower the process's other threads (V8's compiler and GC helpers) to nice 19 once the workers
   * run, so that a compile job does not delay a frame (switch/helper-threads.ts). The daemon does;
   * a library caller whose process does other work may not want it (default false).
   */
  niceHelperThreads?: boolean;
  /**
   * For tests of worker supervision only, never for normal use: lets Switch.killWorker() end a
   * worker, as a bug would (default false).
   */
  faultInjection?: boolean;
}

const DEFAULTS = { weight: 64, roundBudget: 300, roundTimeMs: 2, backlog: 1000 };

export function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be a whole number from ${min} to ${max}, got ${value}`);
  return value;
}

/** Every option, checked, with its default where the caller gave none. */
export function resolveOptions(options: SwitchOptions): Required<SwitchOptions> {
  const resolved: Required<SwitchOptions> = {
    workers: checkInt('workers', options.workers ?? availableParallelism(), 1, 64),
    fdbSize: options.fdbSize ?? 8192,
    ageingSeconds: options.ageingSeconds ?? 300,
    weight: checkInt('weight', options.weight ?? DEFAULTS.weight, 1, 256),
    roundBudget: checkInt('roundBudget', options.roundBudget ?? DEFAULTS.roundBudget, 1, 1 << 20),
    roundTimeMs: options.roundTimeMs ?? DEFAULTS.roundTimeMs,
    backlog: checkInt('backlog', options.backlog ?? DEFAULTS.backlog, 1, 1 << 20),
    offloads: options.offloads ?? true,
    poll: options.poll ?? 'sleep',
    pollUs: checkInt('pollUs', options.pollUs ?? DEFAULT_POLL_US, POLL_US.min, POLL_US.max),
    pollCpu: checkInt('pollCpu', options.pollCpu ?? DEFAULT_POLL_CPU, POLL_CPU.min, POLL_CPU.max),
    pinWorkers: options.pinWorkers ?? false,
    gateway: options.gateway ?? null,
    gatewayVlan: checkInt('gatewayVlan', options.gatewayVlan ?? VLAN_UNTAGGED, VLAN_UNTAGGED, VID_MAX),
    conntrack: options.conntrack ?? {},
    forwardLinkLocal: parseLinkLocal(options.forwardLinkLocal ?? 0),
    niceHelperThreads: options.niceHelperThreads ?? false,
    stp: options.stp === undefined || options.stp === false ? false : resolveStp(options.stp === true ? {} : options.stp),
    faultInjection: options.faultInjection ?? false,
  };
  if (!POLL_MODES.includes(resolved.poll)) throw new RangeError(`poll must be one of ${POLL_MODES.join(', ')}, got ${resolved.poll}`);
  if (!(resolved.roundTimeMs > 0)) throw new RangeError(`roundTimeMs must be above 0, got ${resolved.roundTimeMs}`);
  return resolved;
}

/** The polling policy the workers follow, from the resolved options. */
export function pollSettings(resolved: Required<SwitchOptions>): PollSettings {
  return { mode: resolved.poll, pollUs: resolved.pollUs, pollCpu: resolved.pollCpu };
}
