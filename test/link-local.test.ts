// Link-local frames (01:80:C2:00:00:00 to 0F): kept to their link as the Linux bridge keeps them,
// unless the switch's --forward-link-local mask forwards them; on an engine on this thread.
import { describe, expect, it } from 'vitest';

import { LINK_LOCAL_WORD } from '../src/dataplane/core/port-table.js';
import { formatLinkLocal, parseLinkLocal } from '../src/dataplane/l2/link-local.js';
import { parseMac } from '../src/packet/mac.js';
import { Switch } from '../src/switch/switch.js';
import { EngineRig, decisions, hostMac } from './support/engine-rig.js';
import { waitFor } from './support/wait-for.js';

/** Each class of address, with the EtherType (or 802.3 length, for STP's LLC frames) its protocol sends. */
const CLASSES = [
  { name: 'stp', last: 0x00, type: 0x0026 },
  { name: 'mac_control', last: 0x01, type: 0x8808 },
  { name: 'lacp', last: 0x02, type: 0x8809 },
  { name: '8021x', last: 0x03, type: 0x888e },
  { name: 'lldp', last: 0x0e, type: 0x88cc },
  { name: '0x2000', last: 0x0d, type: 0x88f5 },
] as const;

function address(last: number): string {
  return `01:80:c2:00:00:${last.toString(16).padStart(2, '0')}`;
}

/** A 60-byte frame from port `from`'s host to `dst`, with EtherType (or length) `type`. */
function frameTo(dst: string, type: number, from = 1): Uint8Array {
  const bytes = new Uint8Array(60);
  bytes.set(parseMac(dst), 0);
  bytes.set(parseMac(hostMac(from)), 6);
  bytes[12] = type >> 8;
  bytes[13] = type & 0xff;
  return bytes;
}

/** Sends the frame in on port 1 of a three-port rig with `mask`; returns what ports 2 and 3 got and port 1's drops. */
function forward(mask: number, f: Uint8Array): { sent: number[]; linkLocalDrops: number; rig: EngineRig } {
  const rig = new EngineRig();
  rig.table[LINK_LOCAL_WORD] = mask;
  rig.send(1, f);
  rig.run();
  return { sent: [rig.sent(2).length, rig.sent(3).length], linkLocalDrops: rig.drops(1).link_local!, rig };
}

describe('link-local frames, by default', () => {
  for (const c of CLASSES) {
    it(`drops ${address(c.last)} (${c.name}) as link_local instead of flooding it`, () => {
      const { sent, linkLocalDrops } = forward(0, frameTo(address(c.last), c.type));
      expect(sent).toEqual([0, 0]);
      expect(linkLocalDrops).toBe(1);
    });
  }

  it('learns the source of a link-local frame it drops, as the bridge does before passing it up', () => {
    const { rig } = forward(0, frameTo(address(0x0e), 0x88cc));
    expect(rig.fdb.lookup(parseMac(hostMac(1)), 0)).toBe(1);
  });

  it('floods the group addresses just past the range (01:80:c2:00:00:10, :20) as any multicast', () => {
    for (const last of [0x10, 0x20]) expect(forward(0, frameTo(address(last), 0x88cc)).sent).toEqual([1, 1]);
  });
});

describe('link-local frames the mask forwards', () => {
  for (const c of CLASSES) {
    it(`floods ${address(c.last)} when the mask holds ${c.name}`, () => {
      const { sent, linkLocalDrops } = forward(parseLinkLocal(c.name), frameTo(address(c.last), c.type));
      expect(sent).toEqual([1, 1]);
      expect(linkLocalDrops).toBe(0);
    });
  }

  it('forwards only the addresses whose bit is set: lldp does not let STP through', () => {
    expect(forward(parseLinkLocal('lldp'), frameTo(address(0x00), 0x0026)).sent).toEqual([0, 0]);
  });

  it('forwards all sixteen addresses with all', () => {
    for (let last = 0; last < 16; last++) expect(forward(parseLinkLocal('all'), frameTo(address(last), 0x88b5)).sent).toEqual([1, 1]);
  });
});

describe('trace of a link-local frame', () => {
  it('says it was not forwarded, names the protocol and the option that would forward it, and shows the source learned', () => {
    const block = new EngineRig().traced(1, frameTo(address(0x0e), 0x88cc));
    expect(decisions(block, 'l2')).toEqual([
      `learned ${hostMac(1)} on a`,
      '01:80:c2:00:00:0e is link-local (LLDP): not forwarded, as a Linux bridge keeps it to its link; --forward-link-local lldp forwards it',
      expect.stringMatching(/^dropped: link_local /),
    ]);
    expect(block.fate.text).toBe('dropped in l2: link_local');
  });

  it('says the mask forwarded it, naming the protocol', () => {
    const rig = new EngineRig();
    rig.table[LINK_LOCAL_WORD] = parseLinkLocal('stp');
    const block = rig.traced(1, frameTo(address(0x00), 0x0026));
    expect(decisions(block, 'l2').slice(1)).toEqual(['01:80:c2:00:00:00 is link-local (STP): forwarded, as --forward-link-local asks', '01:80:c2:00:00:00 is multicast: flooded']);
    expect(block.fate.text).toBe('sent on b, c');
  });

  it('names the mask bit of an address without a name', () => {
    const block = new EngineRig().traced(1, frameTo(address(0x0d), 0x88f5));
    expect(decisions(block, 'l2')[1]).toBe('01:80:c2:00:00:0d is link-local (reserved): not forwarded, as a Linux bridge keeps it to its link; --forward-link-local 0x2000 forwards it');
  });
});

describe('--forward-link-local, as a list or a mask', () => {
  it('maps each name to the bit of its group address', () => {
    expect(parseLinkLocal('stp')).toBe(0x0001);
    expect(parseLinkLocal('mac_control')).toBe(0x0002);
    expect(parseLinkLocal('lacp')).toBe(0x0004);
    expect(parseLinkLocal('8021x')).toBe(0x0008);
    expect(parseLinkLocal('lldp')).toBe(0x4000);
    expect(parseLinkLocal('all')).toBe(0xffff);
    expect(parseLinkLocal('none')).toBe(0);
  });

  it('joins a list, names and masks alike, in any case', () => {
    expect(parseLinkLocal('stp,LACP, lldp')).toBe(0x4005);
    expect(parseLinkLocal(['lldp', '0x0010'])).toBe(0x4010);
    expect(parseLinkLocal('0x4001')).toBe(0x4001);
    expect(parseLinkLocal(16385)).toBe(0x4001);
  });

  it('refuses an unknown name, listing the names that exist', () => {
    expect(() => parseLinkLocal('stp,cdp')).toThrow(
      'unknown link-local protocol "cdp": names stp, mac_control, lacp, 8021x, lldp, all or none, or a mask like the bridge\'s group_fwd_mask (0x4001: STP and LLDP)',
    );
  });

  it('refuses a mask beyond the sixteen addresses, and an empty item', () => {
    expect(() => parseLinkLocal('0x10000')).toThrow('link-local mask 0x10000 is more than 16 bits');
    expect(() => parseLinkLocal(0x10000)).toThrow('a link-local mask is a whole number from 0 to 0xffff, got 65536');
    expect(() => parseLinkLocal('stp,')).toThrow('a link-local list has an empty item');
  });

  it('writes a mask back as the option takes it', () => {
    expect(formatLinkLocal(0)).toBe('none');
    expect(formatLinkLocal(0xffff)).toBe('all');
    expect(formatLinkLocal(0x4005)).toBe('stp,lacp,lldp');
    expect(formatLinkLocal(0x6001)).toBe('stp,lldp,0x2000');
    expect(parseLinkLocal(formatLinkLocal(0x6001))).toBe(0x6001);
  });
});

describe('Switch.create({ forwardLinkLocal })', () => {
  it('forwards what the mask names through its workers, drops the rest as link_local, and says which it forwards', async () => {
    const sw = await Switch.create({ workers: 1, forwardLinkLocal: ['lldp'] });
    try {
      const [a, b] = [await sw.addMemoryPort(), await sw.addMemoryPort()];
      expect(sw.forwardLinkLocal).toBe(0x4000);
      a.send(frameTo(address(0x00), 0x0026));
      a.send(frameTo(address(0x0e), 0x88cc));
      const got: Uint8Array[] = [];
      const drops = (): number => sw.stats().ports.find((p) => p.id === a.id)!.drops.link_local;
      await waitFor(() => (got.push(...b.receive()), got.length === 1 && drops() === 1), { what: () => `the LLDP frame at b (${got.length}) and the BPDU dropped (${drops()})` });
      expect(got.map((f) => f[5])).toEqual([0x0e]);
    } finally {
      await sw.close();
    }
  });

  it('refuses an unknown protocol before it starts a worker', async () => {
    await expect(Switch.create({ workers: 1, forwardLinkLocal: 'cdp' })).rejects.toThrow('unknown link-local protocol "cdp"');
  });
});
