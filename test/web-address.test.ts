// Where the web view listens, as up --web, ui --listen and a topology file's web: give it.
import { describe, expect, it } from 'vitest';

import { parseTopology } from '../src/control/topology.js';
import { WEB_LISTEN, formatListenAddress, parseListenAddress } from '../src/control/listen-address.js';
import { cliWith } from './support/cli.js';

describe('web view address', () => {
  it('takes a bare port as one on 127.0.0.1, loopback staying the default', () => {
    expect(parseListenAddress('8080', WEB_LISTEN)).toEqual({ host: '127.0.0.1', port: 8080 });
  });

  it('takes HOST:PORT for IPv4, [IPv6]:PORT and localhost', () => {
    expect(parseListenAddress('0.0.0.0:9000', WEB_LISTEN)).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(parseListenAddress('[::1]:8080', WEB_LISTEN)).toEqual({ host: '::1', port: 8080 });
    expect(parseListenAddress('localhost:8080', WEB_LISTEN)).toEqual({ host: 'localhost', port: 8080 });
    expect(formatListenAddress({ host: '::1', port: 8080 })).toBe('[::1]:8080');
  });

  it('refuses what is not an address, naming the option and the forms it takes', () => {
    expect(() => parseListenAddress('example.com:80', WEB_LISTEN)).toThrow('--web: example.com is not an IPv4 address or localhost');
    expect(() => parseListenAddress('70000', WEB_LISTEN, '--listen')).toThrow('--listen: port 70000 is not from 0 to 65535');
    expect(() => parseListenAddress('1.2.3:80', WEB_LISTEN)).toThrow(/1\.2\.3 is not an IPv4 address/);
    expect(() => parseListenAddress('nowhere', WEB_LISTEN)).toThrow('--web takes HOST:PORT, [IPV6]:PORT or a port alone (on 127.0.0.1), such as 127.0.0.1:8080 or 8080');
  });

  it('reads web: in a topology file, a number as a port, and names the line of a bad one', () => {
    const lab = (web: string) => `switches:\n  ts0:\n    web: ${web}\n`;
    expect(parseTopology(lab('8080')).switches[0]!.web).toBe('8080');
    expect(parseTopology(lab('127.0.0.1:9000')).switches[0]!.web).toBe('127.0.0.1:9000');
    expect(() => parseTopology(lab('nowhere'), 'lab.yaml')).toThrow(/lab.yaml:3:10: switches.ts0.web: web takes HOST:PORT/);
  });

  it('makes a bad --web a usage error of up, before any daemon starts', () => {
    const r = cliWith(() => ({ ...process.env, TAPSWITCH_RUN_DIR: '/nonexistent/tapswitch-web-address' })).run('up', '--web', 'nowhere');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--web takes HOST:PORT');
  });
});
