// The pieces of `up --metrics` that need no switch: the exposition writer, read back by a strict
// reader of the format, and the addresses --metrics and the topology file take.
import { describe, expect, it } from 'vitest';

import { METRICS_LISTEN, metricsAddress, parseListenAddress } from '../src/control/listen-address.js';
import { parseTopology } from '../src/control/topology.js';
import { ExpositionWriter } from '../src/metrics/exposition.js';
import { parseExposition, sampleValue } from './support/exposition.js';

describe('the exposition writer', () => {
  it('escapes backslashes, quotes and line feeds in label values and help, so they read back as written', () => {
    const writer = new ExpositionWriter();
    const port = 'a\\b"c\nd';
    writer.family('tapswitch_port_rx_packets_total', 'counter', 'Frames read\nfrom C:\\ports.', [{ labels: { switch: 'ts0', port }, value: 7 }]);
    const text = writer.text();
    expect(text).toContain('port="a\\\\b\\"c\\nd"');
    const family = parseExposition(text).get('tapswitch_port_rx_packets_total')!;
    expect(family).toEqual({ type: 'counter', help: 'Frames read\nfrom C:\\ports.', samples: [{ labels: { switch: 'ts0', port }, value: 7 }] });
  });

  it('writes non-finite and fractional values as Prometheus parses them', () => {
    const writer = new ExpositionWriter();
    writer.family('g', 'gauge', 'values', [
      { labels: { v: 'inf' }, value: Infinity },
      { labels: { v: 'nan' }, value: NaN },
      { labels: { v: 'small' }, value: 1.5e-7 },
    ]);
    const families = parseExposition(writer.text());
    expect(sampleValue(families, 'g', { v: 'inf' })).toBe(Infinity);
    expect(sampleValue(families, 'g', { v: 'nan' })).toBeNaN();
    expect(sampleValue(families, 'g', { v: 'small' })).toBe(1.5e-7);
  });

  it('refuses a counter not named _total, a family written twice, and names the format does not allow', () => {
    const writer = new ExpositionWriter();
    expect(() => writer.family('tapswitch_frames', 'counter', 'x', [])).toThrow('counter tapswitch_frames must end in _total');
    expect(() => writer.family('tapswitch-frames', 'gauge', 'x', [])).toThrow('is not a metric name');
    expect(() => writer.family('g', 'gauge', 'x', [{ labels: { __name: 'x' }, value: 1 }])).toThrow('is not a label name');
    writer.family('h', 'gauge', 'x', []);
    expect(() => writer.family('h', 'gauge', 'x', [])).toThrow('family h is written twice');
  });
});

describe('the strict exposition reader of the tests', () => {
  it('refuses a sample before its TYPE, a split family, an unknown escape and a missing final line feed', () => {
    expect(() => parseExposition('x 1\n')).toThrow('before its TYPE');
    expect(() => parseExposition('# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx{a="b"} 2\n')).toThrow('not together');
    expect(() => parseExposition('# TYPE x gauge\nx{a="\\t"} 1\n')).toThrow('not an escape');
    expect(() => parseExposition('# TYPE x gauge\nx 1')).toThrow('line feed');
    expect(() => parseExposition('# TYPE x counter\nx 1\n')).toThrow('not named _total');
  });
});

describe('the metrics address', () => {
  it('takes a port alone as that port on 127.0.0.1, never on every interface', () => {
    expect(parseListenAddress('9464', METRICS_LISTEN)).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(metricsAddress('9464')).toBe('127.0.0.1:9464');
  });

  it('binds another address only when the user names it, IPv6 in brackets', () => {
    expect(metricsAddress('0.0.0.0:9464')).toBe('0.0.0.0:9464');
    expect(metricsAddress('[::1]:9464')).toBe('[::1]:9464');
  });

  it('refuses an empty host, a port out of range and a bracketed non-IPv6 address, saying what fits', () => {
    expect(() => metricsAddress(':9464')).toThrow('names no address');
    expect(() => metricsAddress('127.0.0.1:70000')).toThrow('port 70000 is not from 1 to 65535');
    expect(() => metricsAddress('[1:2:3]:9464')).toThrow('not an IPv6 address');
    expect(() => metricsAddress('http://127.0.0.1:9464')).toThrow('takes HOST:PORT, [IPV6]:PORT or a port alone');
  });

  it('reads metrics: in a topology file, a port alone too, and names the line of a bad one', () => {
    const lab = (value: string) => `switches:\n  ts0:\n    metrics: ${value}\n`;
    expect(parseTopology(lab('9464')).switches[0]!.metrics).toBe('127.0.0.1:9464');
    expect(parseTopology(lab('"0.0.0.0:9100"')).switches[0]!.metrics).toBe('0.0.0.0:9100');
    expect(() => parseTopology(lab('"127.0.0.1:0"'), 'lab.yaml')).toThrow('lab.yaml:3:14: switches.ts0.metrics: metrics: port 0 is not from 1 to 65535');
  });
});
