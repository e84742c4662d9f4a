// Two namespaces, each with a TAP whose fd this process holds, and the bare forwarder between them.
import { BareForwarder } from '../../src/forwarder/bare-forwarder.js';
import type { TapOptions } from '../../src/native/tap.js';
import { attachTap, createOwnedNamespace, type AttachedTap } from '../../src/netns/attach.js';
import { uniqueName } from '../../src/netns/names.js';
import { Resources } from '../../src/netns/resources.js';

export interface PairOptions {
  tap: TapOptions;
  /** CPU for the forwarding worker; the load generator takes the other one. */
  cpu?: number;
  budget?: number;
  busyPoll?: boolean;
}

export interface Pair {
  readonly left: AttachedTap;
  readonly right: AttachedTap;
  readonly leftIp: string;
  readonly rightIp: string;
  readonly forwarder: BareForwarder;
  readonly resources: Resources;
}

/** Builds the pair; on any failure everything made so far is removed before the error goes on. */
export async function buildPair(options: PairOptions, subnet = '10.251.0'): Promise<Pair> {
  const resources = new Resources();
  try {
    const leftNs = await createOwnedNamespace(resources, uniqueName('tsb'));
    const rightNs = await createOwnedNamespace(resources, uniqueName('tsb'));
    const left = await attachTap(resources, { netns: leftNs, ifname: 'eth0', cidr: `${subnet}.1/24`, tap: options.tap });
    const right = await attachTap(resources, { netns: rightNs, ifname: 'eth0', cidr: `${subnet}.2/24`, tap: options.tap });
    const forwarder = await BareForwarder.start({
      a: left.tap.queues[0]!.spec,
      b: right.tap.queues[0]!.spec,
      ...(options.cpu !== undefined && { cpu: options.cpu }),
      ...(options.budget !== undefined && { budget: options.budget }),
      ...(options.busyPoll !== undefined && { busyPoll: options.busyPoll }),
    });
    resources.add('bare forwarder', async () => void (await forwarder.stop()));
    return { left, right, leftIp: `${subnet}.1`, rightIp: `${subnet}.2`, forwarder, resources };
  } catch (e) {
    await resources.release().catch(() => undefined);
    throw e;
  }
}
