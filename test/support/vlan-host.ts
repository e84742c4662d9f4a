// A host on VLANs, in userspace, for kernels without 802.1Q devices (no CONFIG_VLAN_8021Q, so no
// `ip link add ... type vlan`): a python3 program on an AF_PACKET socket that answers ARP and ping
// for addresses of its own on tag chains such as 8100:10 (eth0.10) or 88a8:100/8100:5 (eth0.100.5),
// or pings one such address once and says whether the reply came. The kernel moves a received
// frame's outer tag into the packet's auxdata, as it does for every frame on a device without VLAN
// offload; the program puts it back before it reads the tags.
import type { ChildProcess } from 'node:child_process';

import { spawnIn } from '../../src/netns/namespace.js';
import { waitForOutput } from './wait-for.js';

const PROGRAM = String.raw`
import socket, struct, sys, time
SOL_PACKET, PACKET_AUXDATA, VLAN_VALID, TPID_VALID = 263, 8, 0x10, 0x40

def chain(spec):
    return tuple((int(t.split(':')[0], 16), int(t.split(':')[1])) for t in spec.split('/') if t)

def ip(text):
    return socket.inet_aton(text)

def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def open_socket(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((ifname, 0))
    return s, s.getsockname()[4]

def receive(s):
    data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(20))
    for level, kind, value in anc:
        if level == SOL_PACKET and kind == PACKET_AUXDATA:
            status, _, _, _, _, tci, tpid = struct.unpack('IIIHHHH', value[:20])
            if status & VLAN_VALID:
                data = data[:12] + struct.pack('!HH', tpid if status & TPID_VALID else 0x8100, tci) + data[12:]
    tags, off = [], 12
    while struct.unpack('!H', data[off:off + 2])[0] in (0x8100, 0x88a8) and len(tags) < 2:
        tags.append((struct.unpack('!H', data[off:off + 2])[0], struct.unpack('!H', data[off + 2:off + 4])[0] & 0xfff))
        off += 4
    return data[6:12], tuple(tags), struct.unpack('!H', data[off:off + 2])[0], data[off + 2:]

def frame(dst, src, tags, ethertype, payload):
    return dst + src + b''.join(struct.pack('!HH', t, v) for t, v in tags) + struct.pack('!H', ethertype) + payload

def arp(op, smac, sip, tmac, tip):
    return struct.pack('!HHBBH', 1, 0x0800, 6, 4, op) + smac + sip + tmac + tip

def echo(kind, ident, seq, src, dst):
    icmp = struct.pack('!BBHHH', kind, 0, 0, ident, seq) + b'tapswitch-vlan'
    icmp = icmp[:2] + struct.pack('!H', csum(icmp)) + icmp[4:]
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(icmp), 0, 0, 64, 1, 0, src, dst)
    return hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:] + icmp

def serve(ifname, specs):
    s, mac = open_socket(ifname)
    own = {(chain(c), ip(a)) for c, a in (x.split('=') for x in specs)}
    print('serving', flush=True)
    while True:
        src, tags, et, p = receive(s)
        if et == 0x0806 and struct.unpack('!H', p[6:8])[0] == 1 and (tags, p[24:28]) in own:
            s.send(frame(src, mac, tags, 0x0806, arp(2, mac, p[24:28], p[8:14], p[14:18])))
        elif et == 0x0800 and p[9] == 1 and p[20] == 8 and (tags, p[16:20]) in own:
            ident, seq = struct.unpack('!HH', p[24:28])
            s.send(frame(src, mac, tags, 0x0800, echo(0, ident, seq, p[16:20], p[12:16])))

def ping(ifname, spec, me, peer):
    s, mac = open_socket(ifname)
    tags, me, peer = chain(spec), ip(me), ip(peer)
    s.settimeout(0.2)
    deadline, peer_mac = time.time() + 10, None
    while time.time() < deadline:
        if peer_mac is None: s.send(frame(b'\xff' * 6, mac, tags, 0x0806, arp(1, mac, me, b'\0' * 6, peer)))
        else: s.send(frame(peer_mac, mac, tags, 0x0800, echo(8, 0x7473, 1, me, peer)))
        end = time.time() + 0.5
        while time.time() < end:
            try: src, got, et, p = receive(s)
            except socket.timeout: continue
            if got != tags: continue
            if et == 0x0806 and struct.unpack('!H', p[6:8])[0] == 2 and p[14:18] == peer: peer_mac = p[8:14]
            elif et == 0x0800 and p[20] == 0 and p[12:16] == peer:
                print('reply', flush=True)
                return
    print('no reply', flush=True)

if sys.argv[1] == 'serve': serve(sys.argv[2], sys.argv[3:])
else: ping(*sys.argv[2:6])
`;

/** Answers ARP and ping in `netns` on `ifname` for each `chain=address` (like 8100:10=192.168.10.1); resolves once it listens. The caller kills it. */
export async function serveVlans(netns: string, ifname: string, addresses: string[]): Promise<ChildProcess> {
  const child = spawnIn(netns, 'python3', ['-c', PROGRAM, 'serve', ifname, ...addresses]);
  await waitForOutput(child, 'stdout', 'serving', { what: `the VLAN host in ${netns} to listen` });
  return child;
}

/** Pings `peer` from `me` on tag chain `chain` (like 88a8:100/8100:5) out of `ifname` in `netns`; whether a reply came within 10 s. */
export async function pingOnVlan(netns: string, ifname: string, chain: string, me: string, peer: string): Promise<boolean> {
  const child = spawnIn(netns, 'python3', ['-c', PROGRAM, 'ping', ifname, chain, me, peer]);
  const out = await waitForOutput(child, 'stdout', /reply/, { what: `a ping from ${me} to ${peer} on ${chain} to end`, timeoutMs: 15_000 });
  return /^reply$/m.test(out);
}
