import { describe, expect, it } from 'vitest';

import { formatVids, parseVid, parseVids, portVlansOf, summarizeVlans } from '../src/control/port-vlans.js';

describe('VLAN ids and lists as users write them', () => {
  it('reads a list of ids and ranges, sorted, each id once', () => {
    expect(parseVids('20,10,100-103,11,10')).toEqual([10, 11, 20, 100, 101, 102, 103]);
  });

  it('writes a list back with runs as ranges', () => {
    expect(formatVids([100, 10, 101, 102, 20, 11])).toBe('10-11,20,100-102');
  });

  it('refuses ids outside 1-4094 and names the range', () => {
    expect(() => parseVid('0')).toThrow('VLAN id 0 is out of range: VLAN ids are 1-4094 (0 and 4095 are reserved by 802.1Q)');
    expect(() => parseVids('10,4095')).toThrow('VLAN id 4095 is out of range: VLAN ids are 1-4094');
  });

  it('refuses what is not an id, an empty item and a backward range, each naming the problem and the range', () => {
    expect(() => parseVid('ten')).toThrow('"ten" is not a VLAN id: VLAN ids are 1-4094');
    expect(() => parseVids('10,,20')).toThrow('VLAN list "10,,20" has an empty item: write ids and ranges like 10,20,100-110 (VLAN ids are 1-4094)');
    expect(() => parseVids('10,x')).toThrow('"x" in VLAN list "10,x" is neither a VLAN id nor a range like 100-110 (VLAN ids are 1-4094)');
    expect(() => parseVids('110-100')).toThrow('range 110-100 in VLAN list "110-100" runs backwards: write it low to high, like 100-110');
  });
});

describe("a port's VLAN settings", () => {
  it('makes an access port one VLAN, pvid and untagged', () => {
    expect(portVlansOf({ vlan: 10 })).toEqual({ mode: 'vlans', vlans: [{ vid: 10, pvid: true, untagged: true }] });
  });

  it('makes a trunk of tagged VLANs, with its native VLAN pvid and untagged', () => {
    expect(portVlansOf({ trunk: [10, 20], native: 1 })).toEqual({
      mode: 'vlans',
      vlans: [
        { vid: 1, pvid: true, untagged: true },
        { vid: 10, pvid: false, untagged: false },
        { vid: 20, pvid: false, untagged: false },
      ],
    });
  });

  it('makes a tunnel port of the qinq VLAN, and leaves a port without settings carrying every VLAN', () => {
    expect(portVlansOf({ qinq: 100 })).toEqual({ mode: 'tunnel', vid: 100 });
    expect(portVlansOf({})).toBeUndefined();
  });

  it('refuses more than one of vlan, trunk and qinq, and native without trunk, in the spelling of where they came from', () => {
    const option = (field: string) => `--${field}`;
    expect(() => portVlansOf({ vlan: 10, qinq: 100 }, option)).toThrow('--vlan and --qinq cannot go together: a port is an access port (--vlan), a trunk (--trunk) or an 802.1ad tunnel port (--qinq); give one of them');
    expect(() => portVlansOf({ vlan: 10, native: 1 })).toThrow("native needs trunk: it is a trunk's untagged VLAN; for an access port give vlan alone");
  });

  it('sums the settings up in a few words', () => {
    expect(summarizeVlans({ mode: 'all' })).toBe('all');
    expect(summarizeVlans(portVlansOf({ vlan: 10 })!)).toBe('access 10');
    expect(summarizeVlans(portVlansOf({ trunk: [10, 20, 21, 22], native: 1 })!)).toBe('trunk 10,20-22 native 1');
    expect(summarizeVlans({ mode: 'vlans', vlans: [{ vid: 5, pvid: true, untagged: false }, { vid: 6, pvid: false, untagged: true }] })).toBe('trunk 5-6 pvid 5 untagged 6');
    expect(summarizeVlans({ mode: 'tunnel', vid: 100 })).toBe('qinq 100');
  });
});
