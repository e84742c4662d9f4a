import { describe, expect, it } from 'vitest';

import { LineReader } from '../src/control/line-reader.js';
import { parseRequest } from '../src/control/protocol.js';

const refusal = (line: string): string => {
  try {
    parseRequest(line);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${line} was accepted`);
};

describe('a control request is checked against its declared shape', () => {
  it('refuses a number where a namespace name belongs, naming the field, what came and what fits', () => {
    expect(refusal('{"cmd":"attach","args":{"netns":123}}')).toBe('attach: netns must be a string (a namespace name), got number 123');
  });

  it('refuses to publish a protocol other than tcp or udp', () => {
    const line = JSON.stringify({ cmd: 'publish', args: { hostPort: 8080, netns: 'web', port: 80, protocol: 'icmp' } });
    expect(refusal(line)).toBe('publish: protocol must be "tcp" or "udp" (only tcp and udp ports can be published), got string "icmp"');
  });

  it('refuses a missing required field', () => {
    expect(refusal('{"cmd":"detach","args":{}}')).toBe('detach: netns must be a string (a namespace name), got nothing');
    expect(refusal('{"cmd":"detach"}')).toBe('detach: netns must be a string (a namespace name), got nothing');
  });

  it('refuses a port number out of range or not whole', () => {
    expect(refusal('{"cmd":"unpublish","args":{"hostPort":70000,"protocol":"tcp"}}')).toBe('unpublish: hostPort must be a whole number from 1 to 65535 (a port number), got number 70000');
    expect(refusal('{"cmd":"unpublish","args":{"hostPort":"80","protocol":"tcp"}}')).toContain('got string "80"');
    expect(refusal('{"cmd":"attach","args":{"netns":"a","mtu":1500.5}}')).toContain('attach: mtu must be a whole number from 68 to 65521 (the MTU in bytes), got number 1500.5');
  });

  it('refuses null for an optional field', () => {
    expect(refusal('{"cmd":"attach","args":{"netns":"a","ip":null}}')).toBe('attach: ip must be a string (an address in the switch subnet, or auto), got null');
  });

  it('refuses a field the command does not take', () => {
    expect(refusal('{"cmd":"detach","args":{"netns":"a","force":true}}')).toBe('detach: unknown field "force"; it takes netns');
    expect(refusal('{"cmd":"ping","args":{"x":1}}')).toBe('ping: unknown field "x"; it takes no args');
  });

  it('refuses args that are not an object', () => {
    expect(refusal('{"cmd":"detach","args":"ns1"}')).toBe('detach: args must be an object, got string "ns1"');
    expect(refusal('{"cmd":"detach","args":[]}')).toBe('detach: args must be an object, got an array of 0');
  });

  it('checks the args of a capture and a trace too', () => {
    const capture = { direction: 'both', snaplen: 262144, drops: false, format: 'pcapng' };
    expect(refusal(JSON.stringify({ cmd: 'capture', args: { ...capture, filter: 7 } }))).toBe('capture: filter must be a string (a tcpdump filter expression), got number 7');
    expect(refusal(JSON.stringify({ cmd: 'capture', args: { ...capture, format: 'txt' } }))).toContain('capture: format must be "pcap" or "pcapng" (the file format), got string "txt"');
    expect(refusal('{"cmd":"trace","args":{"count":0}}')).toBe('trace: count must be a whole number from 1 to 100000 (frames), got number 0');
  });

  it('takes a well-formed request as it is', () => {
    const args = { netns: 'web', ip: 'auto', mtu: 9000, offloads: false };
    expect(parseRequest(JSON.stringify({ cmd: 'attach', args }))).toEqual({ cmd: 'attach', args });
    expect(parseRequest('{"cmd":"ports"}')).toEqual({ cmd: 'ports', args: {} });
  });

  for (const [what, line, message] of [
    ['a line that is not JSON', 'hello', 'the request is not JSON'],
    ['JSON that is not an object', 'null', 'a request must be a JSON object like {"cmd":"ping"}, got null'],
    ['a field beside cmd and args', '{"cmd":"ping","argz":{}}', 'a request holds only cmd and args, not "argz"'],
    ['a cmd that is not a string', '{"cmd":5}', "a request's cmd must be a string (the command), got number 5"],
    ['an unknown command', '{"cmd":"frobnicate"}', 'unknown command "frobnicate"'],
    ['a method name of every object as the command', '{"cmd":"toString"}', 'unknown command "toString"'],
  ] as const) {
    it(`refuses ${what} as a protocol error`, () => {
      let error: Error & { code?: string };
      try {
        parseRequest(line);
        throw new Error('accepted');
      } catch (e) {
        error = e as Error & { code?: string };
      }
      expect(error.message).toBe(message);
      expect(error.code).toBe('EPROTO');
    });
  }
});

describe('the daemon reads request lines of bounded length', () => {
  it('splits chunks into lines, joining a line that spans chunks', () => {
    const reader = new LineReader(16);
    expect(reader.push(Buffer.from('{"a":1}\n{"b"'))).toBe(true);
    expect(reader.push(Buffer.from(':2}\nst'))).toBe(true);
    expect([reader.next(), reader.next(), reader.next()]).toEqual(['{"a":1}', '{"b":2}', undefined]);
    expect(reader.rest()).toBe('st');
  });

  it('keeps a character whose bytes are split between two chunks', () => {
    const reader = new LineReader(16);
    const bytes = Buffer.from('"é"\n');
    reader.push(bytes.subarray(0, 2));
    reader.push(bytes.subarray(2));
    expect(reader.next()).toBe('"é"');
  });

  it('takes a line of exactly the longest length', () => {
    const reader = new LineReader(8);
    expect(reader.push(Buffer.from('12345678\n'))).toBe(true);
    expect(reader.next()).toBe('12345678');
  });

  it('refuses an unfinished line as soon as it is longer than the limit, and holds nothing of it', () => {
    const reader = new LineReader(8);
    expect(reader.push(Buffer.from('12345'))).toBe(true);
    expect(reader.push(Buffer.from('6789'))).toBe(false);
    expect(reader.rest()).toBe('');
  });

  it('refuses a finished line longer than the limit', () => {
    const reader = new LineReader(8);
    expect(reader.push(Buffer.from('ok\n123456789\n'))).toBe(false);
    expect(reader.next()).toBeUndefined();
  });
});
