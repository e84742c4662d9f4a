// The segment: this switch and every switch its patches join it to, directly or through others. They
// form one LAN, so they may share a subnet, and an address one of them hands out must be free on all
// of them. Each answers `segment` with what it holds, out of turn (daemon.ts), so two switches that
// ask each other while each is busy with a request of its own never wait on one another.
import { request } from '../client.js';
import type { SegmentView } from '../protocol.js';
import type { DaemonContext } from './context.js';
import { formatAddressing } from '../addressing.js';

/** How long a switch waits for a linked one to say what it holds; one that does not answer is left out. */
const SEGMENT_ANSWER_MS = 3000;

export function segmentView(ctx: DaemonContext): SegmentView {
  return {
    switch: ctx.name,
    ...formatAddressing(ctx),
    addresses: [...ctx.attachments.values()].flatMap((a) => (a.ip === null ? [] : [{ ip: a.ip, netns: a.netns }])),
    peers: [...ctx.patches.values()].filter((p) => p.state === 'up').map((p) => p.peer),
  };
}

/** The other switches of this one's segment, as each says; `from` starts the walk elsewhere (a switch about to be joined). */
export async function segmentMembers(ctx: DaemonContext, from: readonly string[] = segmentView(ctx).peers): Promise<SegmentView[]> {
  const seen = new Set([ctx.name]);
  const members: SegmentView[] = [];
  const queue = [...from];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (seen.has(name)) continue;
    seen.add(name);
    const view = await request(name, { cmd: 'segment' }, SEGMENT_ANSWER_MS).catch((e: Error) => {
      ctx.log(`segment: switch ${name} did not say what it holds (${e.message}); left out`);
      return null;
    });
    if (view === null) continue;
    members.push(view);
    queue.push(...view.peers);
  }
  return members;
}
