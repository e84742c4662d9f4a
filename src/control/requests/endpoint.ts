// endpoint-add: a port for a container engine (Docker's libnetwork). The switch makes a persistent
// TAP with the endpoint's MAC and MTU and leaves it down in the host; the engine moves it into the
// container, renames it eth0, addresses it and brings it up. Moving a TAP keeps its queues, so the
// switch's fds follow it. The endpoint is kept as an attachment named by the engine's endpoint
// (not a namespace of ip netns), so detach, publish, the state file and cleanup treat it like one;
// the engine moves the TAP back to the host before it deletes the endpoint, where detach deletes it.
import { ip } from '../../netns/ip.js';
import { uniqueName } from '../../netns/names.js';
import { formatMac, parseMac } from '../../packet/mac.js';
import type { PortInfo } from '../../switch/switch.js';
import type { EndpointArgs, PortView } from '../protocol.js';
import type { AttachmentState } from '../state.js';
import { InputError, hostAddressProblem, numberToIp, parseCidr } from '../subnet.js';
import { removeAttachmentTap } from '../taps.js';
import type { DaemonContext } from './context.js';
import { checkNetns } from './names.js';
import { viewOf } from './ports.js';

export async function addEndpoint(ctx: DaemonContext, args: EndpointArgs): Promise<PortView> {
  const endpoint = checkNetns(args.endpoint);
  if (ctx.attachments.has(endpoint)) throw new InputError(`endpoint ${endpoint} is already a port of ${ctx.name}`);
  const { ip: address, prefix } = parseCidr(args.ip);
  if (ctx.subnet === null) throw new InputError(`switch ${ctx.name} is L2-only (no subnet): a container network needs a switch with a subnet`);
  const problem = hostAddressProblem(ctx.subnet, ctx.gateway, address, prefix, args.ip);
  if (problem !== undefined) throw new InputError(problem);
  const mac = formatMac(parseMac(args.mac));
  const mtu = args.mtu ?? 1500;
  // Recorded before the TAP exists, as attach does, so a daemon killed half-way leaves cleanup its name.
  const pending: AttachmentState = { netns: endpoint, portId: -1, tap: uniqueName('tsd'), ifname: 'eth0', ip: numberToIp(address), prefix, mac, mtu, createdNamespace: false, handedOff: true };
  ctx.attachments.set(endpoint, pending);
  ctx.save();
  let port: PortInfo | undefined;
  try {
    port = await ctx.sw.addTapPort({ name: pending.tap, persist: true });
    // One ip run for both: this is on the path of every docker run.
    await ip('link', 'set', 'dev', port.name, 'address', mac, 'mtu', String(mtu));
    ctx.sw.setPortMtu(port.id, mtu);
  } catch (e) {
    if (port) await ctx.sw.removePort(port.id).catch(() => undefined);
    await removeAttachmentTap(pending).catch(() => undefined);
    ctx.attachments.delete(endpoint);
    ctx.save();
    throw e;
  }
  const attachment: AttachmentState = { ...pending, portId: port.id, offloads: port.vnetHdrSize > 0 };
  ctx.attachments.set(endpoint, attachment);
  ctx.save();
  ctx.log(`endpoint ${endpoint}: TAP ${port.name} ${attachment.ip}/${prefix} ${mac} on port ${port.id}, for the engine to move in`);
  return viewOf(ctx, port, attachment, 'down');
}
