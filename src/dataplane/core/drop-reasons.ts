// Why a frame was dropped: the one list of reasons, each with the stage that drops for it and a
// line that `tapswitch stats` prints beside its count, as VPP's `show errors` does. Counters are
// kept per port and per worker, indexed by a reason's place in this list.

export const DROP_REASON_INFO = [
  { reason: 'short_read', stage: 'rx', description: 'a read from the queue was shorter than its virtio header, so it held no frame' },
  { reason: 'truncated', stage: 'rx', description: 'the frame was larger than its slot and lost its tail when read' },
  { reason: 'too_short', stage: 'classify', description: 'shorter than an Ethernet header (14 bytes)' },
  { reason: 'multicast_source', stage: 'l2', description: 'the source MAC is multicast or broadcast' },
  { reason: 'zero_source', stage: 'l2', description: 'the source MAC is 00:00:00:00:00:00' },
  { reason: 'same_port', stage: 'l2', description: 'the destination MAC sits behind the port the frame came in on' },
  { reason: 'gateway_ignored', stage: 'l3', description: 'addressed to the gateway, which answers only ARP and ICMP echo and routes only IPv4' },
  { reason: 'malformed', stage: 'l3', description: 'an IPv4 header, ICMP quote or checksum offset that contradicts itself or the frame' },
  { reason: 'ttl_exceeded', stage: 'l3', description: 'from the uplink with a TTL that would reach 0 here' },
  { reason: 'uplink_ignored', stage: 'l3', description: 'came in on the uplink but is not for its address (or no router holds the uplink)' },
  { reason: 'conntrack_full', stage: 'l3', description: 'a new NAT flow found the conntrack table full (--conntrack-max)' },
  { reason: 'nat_no_port', stage: 'l3', description: 'a new masqueraded flow found no free external port' },
  { reason: 'nat_no_session', stage: 'l3', description: 'from the uplink, or a stray TCP segment, with no NAT session and no published port' },
  { reason: 'nat_unsupported', stage: 'l3', description: 'a protocol NAT cannot translate (only TCP, UDP, ICMP echo and ICMP errors)' },
  { reason: 'fragment', stage: 'l3', description: 'a later IPv4 fragment whose first fragment was not seen, so its flow is unknown' },
  { reason: 'neighbor_unresolved', stage: 'l3', description: "the next hop's MAC is not known yet; an ARP request went out" },
  { reason: 'no_destination', stage: 'tx', description: 'flooded, but no other port takes floods of its kind' },
  { reason: 'port_removed', stage: 'tx', description: 'its egress port was being removed: the FDB still named it, or it waited in its backlog' },
  { reason: 'too_big', stage: 'tx', description: "larger than the egress port's MTU, and not a GSO frame that could be cut to fit" },
  { reason: 'gso_unsupported', stage: 'offload', description: 'a GSO frame for a port without offloads, of a kind the switch cannot cut (UFO)' },
  { reason: 'backlog_full', stage: 'tx', description: 'the egress queue was busy and the backlog was full (like netdev_max_backlog)' },
  { reason: 'tx_error', stage: 'tx', description: 'the egress queue refused the frame with an error other than EAGAIN' },
  { reason: 'port_down', stage: 'tx', description: 'the egress interface is down (a TAP answers EIO, a packet socket ENETDOWN)' },
  { reason: 'gso_size_invalid', stage: 'offload', description: 'a GSO frame for a port without offloads whose gso_size is under 64 bytes or would cut it into more than 128 segments' },
  { reason: 'conntrack_host_limit', stage: 'l3', description: 'a new NAT flow of an inside host that holds --conntrack-max-per-host sessions, none of which may be replaced (established TCP, or others its search did not reach)' },
  { reason: 'arp_invalid', stage: 'l3', description: 'ARP from the uplink or to the gateway that is not an Ethernet/IPv4 request or reply from a unicast sender MAC equal to the frame\'s source' },
  { reason: 'ip_header_invalid', stage: 'l3', description: 'an IPv4 header to route with a version other than 4, a header under 20 bytes, a total length the frame does not hold, or options that run past the header' },
  { reason: 'ip_checksum', stage: 'l3', description: 'an IPv4 header to route whose checksum is wrong' },
  { reason: 'l4_header_invalid', stage: 'l3', description: 'a TCP, UDP or ICMP header cut short by its IPv4 packet, or a UDP length under 8 or beyond the packet' },
  { reason: 'vlan_tagged', stage: 'l3', description: 'came in on the uplink with a VLAN tag (in the frame, or taken off by the kernel); the uplink is untagged' },
  { reason: 'martian_source', stage: 'l3', description: 'from the uplink with a source address no outside host has: the subnet\'s, the uplink\'s own, 0/8, 127/8, multicast or reserved' },
  { reason: 'frag_queue_full', stage: 'l3', description: 'a later IPv4 fragment that came before its first fragment, when the fragment queue was full or held as many of its source\'s as one source may have' },
  { reason: 'frag_timeout', stage: 'l3', description: 'a held IPv4 fragment whose first fragment did not come in time' },
  { reason: 'fragment_overlap', stage: 'l3', description: 'a later IPv4 fragment overlapping one held for the same datagram (a duplicate, or a way to rewrite what was checked)' },
  { reason: 'fragment_oversize', stage: 'l3', description: 'an IPv4 fragment whose offset and length end beyond 65535 bytes, the largest datagram' },
  { reason: 'fragment_tiny', stage: 'l3', description: 'a later TCP fragment that starts inside the 20-byte TCP header of its first, which it could rewrite past a filter (RFC 1858)' },
  { reason: 'icmp_checksum', stage: 'l3', description: 'an ICMP error for NAT to translate whose ICMP checksum is wrong (RFC 5508 REQ-3: dropped, not passed on with a fresh checksum)' },
  { reason: 'icmp_ratelimited', stage: 'l3', description: 'an ICMP error the router made (time exceeded, table full, unsolicited SYN) and held back: over its rate limit of 500 a second per worker' },
  { reason: 'frag_needed', stage: 'l3', description: "routed with DF set and larger than the egress port's MTU: the sender got ICMP fragmentation needed with that MTU" },
  { reason: 'nat_filtered', stage: 'l3', description: 'from outside to a mapping that --nat-filtering address keeps closed to this source: the inside host never sent to its address' },
  { reason: 'tcp_out_of_window', stage: 'l3', description: 'a TCP RST or FIN outside the window its session tracks (like netfilter\'s tcp_in_window): most likely forged, so it neither passes nor closes the session' },
  { reason: 'vlan_not_member', stage: 'l2', description: 'tagged with a VLAN its port does not carry, or (on its way out) for a port that does not carry its VLAN' },
  { reason: 'vlan_untagged', stage: 'l2', description: 'untagged (or priority-tagged) on a port with VLANs but no pvid, which takes only tagged frames' },
  { reason: 'isolated', stage: 'l2', description: 'bridged from an isolated port to a destination behind another isolated port (link set PORT isolated on)' },
  { reason: 'locked', stage: 'l2', description: 'came in on a locked port from a source MAC without a static or sticky entry on that port (tapswitch fdb add)' },
  { reason: 'spoofed', stage: 'l2', description: "came in on a secure port with a source MAC, IPv4 source or ARP sender that is not the port's own (attach --secure)" },
  { reason: 'link_local', stage: 'l2', description: 'to a link-local group address 01:80:C2:00:00:00-0F (STP, MAC control, LACP, 802.1X, LLDP...), which a bridge keeps to its link: tapswitch up --forward-link-local forwards it' },
  { reason: 'impair_loss', stage: 'impair', description: "lost on purpose by the port's link impairment (link set PORT loss, with its correlation or gemodel)" },
  { reason: 'impair_queue_full', stage: 'impair', description: "the port's impairment delay line held its limit of frames waiting (link set PORT limit N, as netem's limit)" },
  { reason: 'impair_rate', stage: 'impair', description: "over the port's impairment rate while its delay line was full: the link queues what exceeds the rate, as netem does, and drops only when the queue is full" },
  { reason: 'storm_control', stage: 'l2', description: "a broadcast, multicast or unknown unicast flood beyond its class's rate on the port it came in on (link set PORT storm_broadcast N, in frames a second)" },
  { reason: 'stp_blocked', stage: 'l2', description: 'came in on, or was bridged toward, a port that spanning tree keeps from forwarding (blocking, listening or learning: tapswitch stp show)' },
  { reason: 'bpdu_queue_full', stage: 'l2', description: "a BPDU for the switch's spanning tree found the queue to the main thread full (more BPDUs than STP can use)" },
  { reason: 'vxlan_short', stage: 'rx', description: 'a VXLAN datagram too short to hold its 8-byte header and an inner Ethernet header' },
  { reason: 'vxlan_bad_flags', stage: 'rx', description: 'a VXLAN datagram whose flags byte is not 0x08 (the I flag alone): not RFC 7348 VXLAN' },
  { reason: 'vxlan_wrong_vni', stage: 'rx', description: 'a VXLAN datagram for another VNI than that of its port' },
  { reason: 'vxlan_unknown_vtep', stage: 'rx', description: 'a VXLAN datagram from a VTEP that is neither a remote nor the dst of a static entry, on a port with learning off' },
] as const;

export type DropReason = (typeof DROP_REASON_INFO)[number]['reason'];
export type DropCounts = Record<DropReason, number>;

/** The reasons' names, in counter order. */
export const DROP_REASONS: readonly DropReason[] = DROP_REASON_INFO.map((r) => r.reason);

function reason(name: DropReason): number {
  return DROP_REASONS.indexOf(name);
}

// Indexes into the list, derived so that a new reason cannot shift them out of step.
export const DROP_SHORT_READ = reason('short_read');
export const DROP_TRUNCATED = reason('truncated');
export const DROP_TOO_SHORT = reason('too_short');
export const DROP_MULTICAST_SOURCE = reason('multicast_source');
export const DROP_ZERO_SOURCE = reason('zero_source');
export const DROP_SAME_PORT = reason('same_port');
export const DROP_GATEWAY_IGNORED = reason('gateway_ignored');
export const DROP_MALFORMED = reason('malformed');
export const DROP_TTL_EXCEEDED = reason('ttl_exceeded');
export const DROP_UPLINK_IGNORED = reason('uplink_ignored');
export const DROP_CONNTRACK_FULL = reason('conntrack_full');
export const DROP_NAT_NO_PORT = reason('nat_no_port');
export const DROP_NAT_NO_SESSION = reason('nat_no_session');
export const DROP_NAT_UNSUPPORTED = reason('nat_unsupported');
export const DROP_FRAGMENT = reason('fragment');
export const DROP_NEIGHBOR_UNRESOLVED = reason('neighbor_unresolved');
export const DROP_NO_DESTINATION = reason('no_destination');
export const DROP_PORT_REMOVED = reason('port_removed');
export const DROP_TOO_BIG = reason('too_big');
export const DROP_GSO_UNSUPPORTED = reason('gso_unsupported');
export const DROP_BACKLOG_FULL = reason('backlog_full');
export const DROP_TX_ERROR = reason('tx_error');
export const DROP_PORT_DOWN = reason('port_down');
export const DROP_GSO_SIZE_INVALID = reason('gso_size_invalid');
export const DROP_CONNTRACK_HOST_LIMIT = reason('conntrack_host_limit');
export const DROP_ARP_INVALID = reason('arp_invalid');
export const DROP_IP_HEADER_INVALID = reason('ip_header_invalid');
export const DROP_IP_CHECKSUM = reason('ip_checksum');
export const DROP_L4_HEADER_INVALID = reason('l4_header_invalid');
export const DROP_VLAN_TAGGED = reason('vlan_tagged');
export const DROP_MARTIAN_SOURCE = reason('martian_source');
export const DROP_FRAG_QUEUE_FULL = reason('frag_queue_full');
export const DROP_FRAG_TIMEOUT = reason('frag_timeout');
export const DROP_FRAGMENT_OVERLAP = reason('fragment_overlap');
export const DROP_FRAGMENT_OVERSIZE = reason('fragment_oversize');
export const DROP_FRAGMENT_TINY = reason('fragment_tiny');
export const DROP_ICMP_CHECKSUM = reason('icmp_checksum');
export const DROP_ICMP_RATELIMITED = reason('icmp_ratelimited');
export const DROP_FRAG_NEEDED = reason('frag_needed');
export const DROP_NAT_FILTERED = reason('nat_filtered');
export const DROP_TCP_OUT_OF_WINDOW = reason('tcp_out_of_window');
export const DROP_VLAN_NOT_MEMBER = reason('vlan_not_member');
export const DROP_VLAN_UNTAGGED = reason('vlan_untagged');
export const DROP_ISOLATED = reason('isolated');
export const DROP_LOCKED = reason('locked');
export const DROP_SPOOFED = reason('spoofed');
export const DROP_LINK_LOCAL = reason('link_local');
export const DROP_IMPAIR_LOSS = reason('impair_loss');
export const DROP_IMPAIR_QUEUE_FULL = reason('impair_queue_full');
export const DROP_IMPAIR_RATE = reason('impair_rate');
export const DROP_STORM_CONTROL = reason('storm_control');
export const DROP_STP_BLOCKED = reason('stp_blocked');
export const DROP_BPDU_QUEUE_FULL = reason('bpdu_queue_full');
export const DROP_VXLAN_SHORT = reason('vxlan_short');
export const DROP_VXLAN_BAD_FLAGS = reason('vxlan_bad_flags');
export const DROP_VXLAN_WRONG_VNI = reason('vxlan_wrong_vni');
export const DROP_VXLAN_UNKNOWN_VTEP = reason('vxlan_unknown_vtep');
