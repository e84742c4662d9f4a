// What a trace record says: its kind, and the meaning of each payload word. Workers write these;
// the main thread's decoder (src/switch/trace/decode.ts) reads them. Keep the two in step here.

/** A traced frame's first record: where and when it came in, and its first bytes. */
export const EV_FRAME = 1;
export const FRAME_PORT = 0;
export const FRAME_WORKER = 1;
export const FRAME_LENGTH = 2;
export const FRAME_SECONDS = 3;
export const FRAME_NANOSECONDS = 4;
export const FRAME_VNET_FLAGS = 5;
export const FRAME_VNET_GSO = 6;
export const FRAME_DRY = 7;
export const FRAME_HEAD_BYTES = 8;
/** The head bytes, packed four to a word, big-endian. */
export const FRAME_HEAD = 9;
/** Bytes of a frame a record carries: enough for every header the summary reads. */
export const HEAD_BYTES = 128;

/** A stage dropped the frame: [reason, port it is counted on, direction (0 in, 1 out)]. */
export const EV_DROP = 2;

/** classify: [EtherType, L3 offset, flags (F_* of core/batch.ts), whether it judged an IPv4 header (0/1), VLAN id the kernel took off or -1]. */
export const EV_CLASSIFY = 3;

/** l2 learning of the source MAC: [result, ingress port, port it was on before, mac hi, mac lo]. */
export const EV_LEARN = 4;
export const LEARN_NEW = 1;
export const LEARN_MOVED = 2;
export const LEARN_KNOWN = 3;
/** A static entry on another port holds the MAC: not moved. */
export const LEARN_STATIC = 4;
/** Every entry is static: nothing could be evicted. */
export const LEARN_FULL = 5;
/** Learning is off on the ingress port. */
export const LEARN_OFF = 6;
/** The ingress port holds its maxLearned learned entries: not learned. */
export const LEARN_LIMITED = 7;

/** l2 lookup of the destination MAC: [result, port, mac hi, mac lo]. */
export const EV_LOOKUP = 5;
export const LOOKUP_HIT = 1;
export const LOOKUP_MISS = 2;
export const LOOKUP_MULTICAST = 3;
export const LOOKUP_BROADCAST = 4;
export const LOOKUP_GATEWAY = 5;
/** From the uplink: a routed port, never bridged. */
export const LOOKUP_ROUTED = 6;
/** On the ingress port itself, which is hairpin: sent back out of it. */
export const LOOKUP_HAIRPIN = 7;
/** On another port, but it and the ingress port are both isolated: not forwarded. */
export const LOOKUP_ISOLATED = 8;

/** l3 routing: [direction, TTL before, TTL after]. */
export const EV_ROUTE = 6;
export const ROUTE_OUT = 1; // from inside, out of the uplink
export const ROUTE_IN = 2; // from the uplink, to an inside host
export const ROUTE_HAIRPIN = 3; // from inside, back to an inside host (a published port)
export const ROUTE_GATEWAY = 4; // for the gateway itself

/**
 * l3 NAT: [session, protocol, src, dst, sport, dport (before), src, dst, sport, dport (after),
 * TCP state (index into TCP_STATE_NAMES) or -1, seconds the session has left or -1].
 */
export const EV_NAT = 7;
export const NAT_SESSION = 0;
export const NAT_PROTOCOL = 1;
/** The tuple before: src, dst, sport, dport; the tuple after, the same four from NAT_AFTER. */
export const NAT_BEFORE = 2;
export const NAT_AFTER = 6;
export const NAT_TCP_STATE = 10;
export const NAT_SECONDS_LEFT = 11;
export const SESSION_NEW = 1;
export const SESSION_EXISTING = 2;
/** A dry run: a session would be created. */
export const SESSION_WOULD_CREATE = 3;
/** A later fragment, translated as its first fragment was. */
export const SESSION_FRAGMENT = 4;

/** The next hop of a frame leaving by the uplink: [ip, mac hi, mac lo, state]. */
export const EV_NEXT_HOP = 8;
export const NEXT_HOP_REACHABLE = 1;
/** Known, but due for a new ARP request (one went out with the frame). */
export const NEXT_HOP_PROBED = 2;
export const NEXT_HOP_UNRESOLVED = 3;

/** A frame the switch made in answer: [egress port, length, head bytes as in EV_FRAME from word 2]. */
export const EV_REPLY = 9;
export const REPLY_PORT = 0;
export const REPLY_LENGTH = 1;
export const REPLY_HEAD = 2;

/** A flood: [kind (a NEXT_FLOOD_* of core/batch.ts), port count, ports...]. */
export const EV_FLOOD = 10;
export const FLOOD_KIND = 0;
export const FLOOD_COUNT = 1;
export const FLOOD_PORTS = 2;
/** Ports a flood record names at most. */
export const FLOOD_MAX_PORTS = 40;
/** Ports passed over because they and the ingress port are isolated: how many, listed backwards from the last of the ports' words. */
export const FLOOD_ISOLATED = 43;
/** 1 when the flood went back out of its ingress port, which is hairpin. */
export const FLOOD_HAIRPIN = 44;

/** offload for one egress port: [port, action, segments]. */
export const EV_OFFLOAD = 11;
export const OFFLOAD_SEGMENTED = 1;
export const OFFLOAD_CHECKSUM = 2;
export const OFFLOAD_GSO_PASSED = 3;

/** tx on one egress port: [port, result, made by the switch (0/1), length]. */
export const EV_TX = 12;
export const TX_SENT = 1;
/** The queue was busy: it waits in the port's backlog. */
export const TX_BACKLOG = 2;
/** A dry run: it would be sent. */
export const TX_WOULD_SEND = 3;
/** Sent later, from the backlog. */
export const TX_SENT_LATE = 4;

/** The frame's path in this batch is over: [copies still waiting in backlogs]. */
export const EV_END = 13;

/** l2, the VLAN a frame belongs to: [how, VLAN, PCP, ingress port]. */
export const EV_VLAN_IN = 14;
/** Untagged (or priority-tagged): the port's pvid, or 0 on a port in mode all. */
export const VLAN_IN_UNTAGGED = 1;
export const VLAN_IN_PRIORITY = 2;
/** Its tag's VLAN. */
export const VLAN_IN_TAGGED = 3;
/** The tag the kernel took off before a packet socket read it. */
export const VLAN_IN_KERNEL_TAG = 4;
/** From an 802.1ad tunnel port: its VLAN, whatever the frame carries. */
export const VLAN_IN_TUNNEL = 5;

/** tx, the form a frame leaves a port in: [port, action, VLAN, TPID, on a copy (0/1)]. */
export const EV_VLAN_OUT = 15;
export const VLAN_OUT_KEEP_TAGGED = 1;
export const VLAN_OUT_KEEP_UNTAGGED = 2;
export const VLAN_OUT_PUSH = 3;
export const VLAN_OUT_POP = 4;

/** l2 on a frame to a link-local group address: [decision, the address's last byte (0x00..0x0f)]. */
export const EV_LINK_LOCAL = 16;
/** Not forwarded, as the Linux bridge keeps it: dropped as link_local. */
export const LINK_LOCAL_DROPPED = 1;
/** Its bit is in the switch's --forward-link-local mask: flooded as multicast. */
export const LINK_LOCAL_FORWARDED = 2;
/** A BPDU the switch's own spanning tree takes (up --stp). */
export const LINK_LOCAL_TAKEN = 3;

/**
 * The port's link impairment on a frame: [direction (0 in, 1 out), port, what it did (IMPAIR_*
 * bits), microseconds it waits, bit flipped (byte * 8 + bit) or -1]. A frame that waits ends its
 * batch with one more copy pending; IMPAIR_RELEASED says it left the delay line.
 */
export const EV_IMPAIR = 17;
export const IMPAIR_DELAYED = 1;
export const IMPAIR_DUPLICATED = 2;
export const IMPAIR_CORRUPTED = 4;
export const IMPAIR_REORDERED = 8;
export const IMPAIR_RELEASED = 16;
