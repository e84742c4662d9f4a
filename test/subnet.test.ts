import { describe, expect, it } from 'vitest';

import { chooseSubnet, describePassedOver, formatSubnet, gatewayOf, hostRange, macForIp, numberToIp, overlaps, parseSubnet } from '../src/control/subnet.js';

describe('subnets', () => {
  it('derives the MAC from the address the way Docker does', () => {
    expect(macForIp(parseSubnet('172.17.0.0/16').network + 2)).toBe('02:42:ac:11:00:02');
  });

  it('takes the first address as the gateway, and hosts from there to the last before broadcast', () => {
    const s = parseSubnet('10.213.0.0/24');
    expect(numberToIp(gatewayOf(s))).toBe('10.213.0.1');
    const range = hostRange(s);
    expect([numberToIp(range.first), numberToIp(range.last)]).toEqual(['10.213.0.1', '10.213.0.254']);
  });

  it('rejects a subnet with host bits set and says which was meant', () => {
    expect(() => parseSubnet('10.213.0.5/24')).toThrow('did you mean 10.213.0.0/24');
  });

  it('chooses a default that clashes with neither Docker, Podman nor the host routes, and says what each passed-over one clashed with', () => {
    const routes = [{ subnet: parseSubnet('10.213.0.0/16'), by: 'docker0' }];
    const { subnet, skipped } = chooseSubnet(routes);
    expect([parseSubnet('10.213.0.0/16'), parseSubnet('172.17.0.0/16'), parseSubnet('10.88.0.0/16')].some((r) => overlaps(r, subnet))).toBe(false);
    expect(formatSubnet(subnet)).toBe('10.214.0.0/24');
    expect(describePassedOver(skipped)[0]).toBe('passed over 10.213.0.0/24: used by docker0 (10.213.0.0/16)');
  });
});
