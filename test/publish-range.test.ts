// publish takes a range of ports as docker run -p does: 9000-9002:NS:9000-9002[/udp].
import { describe, expect, it } from 'vitest';

import { parseRequest } from '../src/control/protocol.js';
import { parsePublishSpec } from '../src/control/publish-spec.js';
import { Conntrack } from '../src/dataplane/l3/conntrack.js';
import { PublishedPorts } from '../src/switch/published-ports.js';

const WEB = { ip: '10.9.0.2', mac: '02:42:0a:09:00:02' };

describe('publish specs', () => {
  it('reads a single port as before', () => {
    expect(parsePublishSpec('8080:web:80')).toEqual({ hostPort: 8080, netns: 'web', port: 80, protocol: 'tcp' });
  });

  it('reads a range on both sides as its first ports and its length', () => {
    expect(parsePublishSpec('9000-9002:web:7000-7002/udp')).toEqual({ hostPort: 9000, netns: 'web', port: 7000, protocol: 'udp', count: 3 });
  });

  it('refuses ranges of different lengths, naming the form', () => {
    expect(() => parsePublishSpec('9000-9002:web:9000-9001')).toThrow('"9000-9002:web:9000-9001" publishes 3 host ports to 2 ports: both ranges must be as long, as in HOSTPORT[-LAST]:NS:PORT[-LAST][/tcp|udp], like 8080:ns1:80 or 9000-9002:ns1:9000-9002');
    expect(() => parsePublishSpec('9000-9002:web:80')).toThrow(/publishes 3 host ports to 1 port: both ranges must be as long/);
  });

  it('refuses a range that ends before it starts', () => {
    expect(() => parsePublishSpec('9002-9000:web:9002-9000')).toThrow('host port range "9002-9000" in "9002-9000:web:9002-9000" ends before it starts: write it FIRST-LAST, like 9000-9002');
  });

  it('refuses a range end beyond 65535', () => {
    expect(() => parsePublishSpec('65535-65536:web:1-2')).toThrow(/last host port "65536" .* must be a port from 1 to 65535/);
  });
});

describe('the control protocol', () => {
  it('accepts a publish with a count, and refuses a count of 0', () => {
    expect(() => parseRequest(JSON.stringify({ cmd: 'publish', args: { hostPort: 9000, netns: 'web', port: 9000, protocol: 'udp', count: 3 } }))).not.toThrow();
    expect(() => parseRequest(JSON.stringify({ cmd: 'publish', args: { hostPort: 9000, netns: 'web', port: 9000, protocol: 'udp', count: 0 } }))).toThrow(/count must be a whole number from 1 to 65535/);
  });
});

describe('the library', () => {
  it('publishes every port of a range one to one', () => {
    const ports = new PublishedPorts(Conntrack.create({ max: 4 }));
    ports.publish({ protocol: 'udp', hostPort: 9000, port: 7000, count: 3, ...WEB });
    expect(ports.list().map((p) => [p.hostPort, p.port])).toEqual([[9000, 7000], [9001, 7001], [9002, 7002]]);
  });

  it('publishes none of a range when one of its ports is taken', () => {
    const ports = new PublishedPorts(Conntrack.create({ max: 4 }));
    ports.publish({ protocol: 'tcp', hostPort: 9001, port: 80, ...WEB });
    expect(() => ports.publish({ protocol: 'tcp', hostPort: 9000, port: 9000, count: 3, ...WEB })).toThrow('9001/tcp is already published; unpublish it first');
    expect(ports.list().map((p) => p.hostPort)).toEqual([9001]);
  });

  it('refuses a range that runs past 65535', () => {
    const ports = new PublishedPorts(Conntrack.create({ max: 4 }));
    expect(() => ports.publish({ protocol: 'tcp', hostPort: 65535, port: 80, count: 2, ...WEB })).toThrow('ports in the range must be a whole number from 1 to 1, got 2');
  });
});
