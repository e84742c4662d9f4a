// What `tapswitch trace` tells about one frame, as the library returns it and `--json` prints it:
// where it came in, its headers in one line, each stage's decisions, and its fate.
import type { DropReason } from '../../dataplane/core/drop-reasons.js';
import type { StageName } from '../../dataplane/core/stage.js';

export interface TracePort {
  id: number;
  /** The name a user knows it by: the namespace, the interface, "uplink", "gateway". */
  name: string;
}

export interface TraceTuple {
  src: string;
  dst: string;
  /** Ports, or for ICMP echo the identifier in both. */
  sport: number;
  dport: number;
}

/** One decision of a stage: its kind, its details, and a line that says it in words. */
export type TraceDecision =
  /** `kernelVlan`: the VLAN id of a tag the kernel took off before a packet socket read the frame. */
  | { kind: 'classify'; etherType: number; l3Offset: number; tagged: boolean; kernelVlan?: number; ipv4Header?: 'valid' | 'invalid'; text: string }
  | { kind: 'learn'; mac: string; port: TracePort; result: 'new' | 'moved' | 'known' | 'static' | 'full' | 'off' | 'limited'; from?: TracePort; text: string }
  /** `hairpin`: on the ingress port, which sends it back; `isolated`: on a port that, like the ingress port, is isolated. */
  | { kind: 'lookup'; mac?: string; result: 'hit' | 'miss' | 'multicast' | 'broadcast' | 'gateway' | 'routed' | 'hairpin' | 'isolated'; port?: TracePort; text: string }
  /** A frame to 01:80:c2:00:00:0X: `option` is the --forward-link-local item that forwards it. */
  | { kind: 'link-local'; address: string; protocol: string; option: string; forwarded: boolean; text: string }
  | { kind: 'route'; direction: 'out' | 'in' | 'hairpin' | 'gateway'; ttl?: { before: number; after: number }; text: string }
  | {
      kind: 'nat';
      protocol: string;
      before: TraceTuple;
      after: TraceTuple;
      session: 'new' | 'existing' | 'would create' | 'fragment';
      state?: string;
      timeoutSeconds?: number;
      text: string;
    }
  | { kind: 'next-hop'; ip: string; mac: string | null; state: 'reachable' | 'probed' | 'unresolved'; text: string }
  | { kind: 'answer'; port: TracePort; length: number; summary: string; text: string }
  /** `isolated`: ports passed over because they and the ingress port are isolated; `hairpin`: the ingress port is among `ports`. */
  | { kind: 'flood'; ports: TracePort[]; isolated?: TracePort[]; hairpin?: boolean; text: string }
  | { kind: 'offload'; port: TracePort; action: 'segmented' | 'checksum' | 'gso passed'; segments: number; text: string }
  /** `frames` counts the segments of a frame cut for the port, each reported alike. */
  | { kind: 'tx'; port: TracePort; result: 'sent' | 'backlog' | 'would send' | 'sent from backlog'; answer: boolean; frames: number; length: number; text: string }
  | { kind: 'drop'; reason: DropReason; port: TracePort; direction: 'in' | 'out'; description: string; text: string }
  /** The VLAN a frame belongs to, and how its port decided it. */
  | { kind: 'vlan'; vlan: number; pcp: number; how: 'untagged' | 'priority-tagged' | 'tagged' | 'kernel tag' | 'tunnel'; text: string }
  /** The form it leaves a port in: its tag kept, pushed or popped; `copy` when made in a copy for the ports of a flood that want it. */
  | { kind: 'vlan-tag'; port: TracePort; vlan: number; action: 'kept tagged' | 'kept untagged' | 'pushed' | 'popped'; tpid: number; copy: boolean; text: string }
  /** What a port's link impairment did to it in one direction; `delayUs` when it waits in the delay line. */
  | { kind: 'impair'; direction: 'in' | 'out'; port: TracePort; actions: ('duplicated' | 'corrupted' | 'reordered' | 'delayed' | 'released')[]; delayUs?: number; text: string };

export interface TraceStage {
  stage: StageName;
  decisions: TraceDecision[];
}

export interface TraceFate {
  /** Ports the frame (or its segments) went out of; in a dry run, would have. */
  sent: TracePort[];
  /** Ports the switch's answers to it went out of. */
  answers: TracePort[];
  dropped: { reason: DropReason; stage: StageName; port: TracePort; direction: 'in' | 'out' }[];
  /** Taken by the switch itself (an ARP or ping for the gateway or the uplink). */
  consumed: boolean;
  /** Copies still waiting in a backlog when the trace stopped. */
  waiting: number;
  /** The fate in words. */
  text: string;
}

export interface TraceBlock {
  /** The order the trace picked frames in, from 1. */
  id: number;
  dryRun: boolean;
  worker: number;
  /** When the frame was read, ISO 8601 with microseconds. */
  time: string;
  ingress: TracePort;
  length: number;
  /** A GSO frame's kind and segment size, from its virtio header. */
  gso?: { type: string; size: number };
  /** The headers in one line, in the spirit of tcpdump -e -nn. */
  summary: string;
  stages: TraceStage[];
  fate: TraceFate;
  /** False when events were lost (the trace ring was full) or the trace stopped first. */
  complete: boolean;
}
