// trace and trace-packet: a live trace streamed to the client one block per line until its count,
// its duration, the client or the daemon ends it; and a dry run of a frame described in fields,
// whose missing addresses are the ones the switch knows (the port's own, the gateway's).
import type { Socket } from 'node:net';

import { ARP_REQUEST } from '../../packet/arp.js';
import { buildFrame, parseFrameSpec, type FrameSpec, type ResolvedFrameSpec } from '../../packet/frame-spec.js';
import { macForIp } from '../../packet/mac.js';
import type { TraceBlock } from '../../switch/trace/block.js';
import type { Trace } from '../../switch/trace/trace.js';
import type { Reply } from '../protocol.js';
import { failureReply } from '../reply.js';
import { contains, InputError, ipToNumber } from '../subnet.js';
import { streamTrace, type TraceArgs } from '../trace-stream.js';
import type { DaemonContext } from './context.js';
import { resolvePort } from './ports.js';
import { count } from '../../util/plural.js';

const BROADCAST = 'ff:ff:ff:ff:ff:ff';

/** `args` are the trace request's, already checked; `pending` what the client sent after it, such as an early "stop". */
export async function startTraceStream(ctx: DaemonContext, socket: Socket, args: TraceArgs, pending: string): Promise<void> {
  let trace: Trace;
  try {
    if (ctx.stopping) throw new InputError(`switch ${ctx.name} is stopping`);
    const port = args.port === undefined ? undefined : resolvePort(ctx, args.port).id;
    trace = await ctx.sw.startTrace({
      ...(port !== undefined && { ports: [port] }),
      count: args.count,
      ...(args.filter !== undefined && { filter: args.filter }),
      portName: (id) => ctx.portLabel(id),
    });
  } catch (e) {
    socket.end(JSON.stringify(failureReply(e)) + '\n');
    return;
  }
  if (socket.destroyed) {
    await trace.stop();
    return;
  }
  socket.write(JSON.stringify({ ok: true, result: { tracing: true } } satisfies Reply) + '\n');
  const stream = streamTrace(socket, trace, args, pending);
  ctx.streams.add(stream);
  const summary = await stream.done;
  ctx.streams.delete(stream);
  ctx.log(`trace ended (${summary.reason}): ${count(summary.traced, 'frame')} traced${summary.lost > 0 ? `, ${count(summary.lost, 'event')} lost` : ''}`);
}

/** A dry run of the frame `spec` describes, from the port it names. */
export async function tracePacket(ctx: DaemonContext, spec: string): Promise<TraceBlock> {
  let parsed: FrameSpec;
  try {
    parsed = parseFrameSpec(spec);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  const port = resolvePort(ctx, parsed.in);
  let frame: Uint8Array;
  try {
    frame = buildFrame(resolveSpec(ctx, parsed, port.id));
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  return ctx.sw.traceFrame({ ingress: port.id, frame, portName: (id) => ctx.portLabel(id) });
}

/**
 * Fills what the spec leaves out from what the switch knows: a namespace's own MAC and address as
 * the source; as the destination, the MAC of the namespace that holds the address, or the
 * gateway's for an address beyond the subnet (broadcast for an ARP request).
 */
function resolveSpec(ctx: DaemonContext, spec: FrameSpec, portId: number): ResolvedFrameSpec {
  const attachment = [...ctx.attachments.values()].find((a) => a.portId === portId);
  const uplink = ctx.sw.uplinkInfo();
  const fromUplink = uplink !== null && uplink.port === portId;
  const gatewayMac = ctx.gateway === null ? undefined : macForIp(ctx.gateway);
  const macOfIp = (ip: string | undefined): string | undefined => {
    if (ip === undefined || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return undefined;
    const n = ipToNumber(ip);
    if (n === ctx.gateway) return gatewayMac;
    if (ctx.subnet === null || !contains(ctx.subnet, n)) return gatewayMac;
    return [...ctx.attachments.values()].find((a) => a.ip === ip)?.mac;
  };
  const ethSrc = spec.ethSrc ?? attachment?.mac ?? (fromUplink ? (uplink.viaMac ?? undefined) : undefined);
  if (ethSrc === undefined) throw new InputError(`the packet spec needs eth_src=MAC: ${spec.in} is not an attached namespace whose MAC the switch knows`);
  if (spec.kind === 'arp') {
    const arpSpa = spec.arpSpa ?? attachment?.ip ?? undefined;
    if (arpSpa === undefined || spec.arpTpa === undefined) throw new InputError('an ARP packet spec needs arp_tpa=IP (and arp_spa=IP when the port is not an attached namespace)');
    return { ...spec, ethSrc, ethDst: spec.ethDst ?? (spec.arpOp === ARP_REQUEST ? BROADCAST : (macOfIp(spec.arpTpa) ?? BROADCAST)), arpSpa, arpTpa: spec.arpTpa };
  }
  if (spec.kind === 'raw') {
    if (spec.ethDst === undefined) throw new InputError('the packet spec needs eth_dst=MAC for a frame of another EtherType');
    return { ...spec, ethSrc, ethDst: spec.ethDst };
  }
  const ipSrc = spec.ipSrc ?? (fromUplink ? undefined : (attachment?.ip ?? undefined));
  if (ipSrc === undefined) throw new InputError(`the packet spec needs ip_src=IP: ${spec.in} is not an attached namespace whose address the switch knows`);
  if (spec.ipDst === undefined) throw new InputError('the packet spec needs ip_dst=IP, where the frame is going');
  const ethDst = spec.ethDst ?? (fromUplink ? uplink.mac : macOfIp(spec.ipDst));
  if (ethDst === undefined) throw new InputError(`no namespace on ${ctx.name} has ${spec.ipDst}: give eth_dst=MAC`);
  return { ...spec, ethSrc, ethDst, ipSrc, ipDst: spec.ipDst };
}
