// vxlan add/del/show/remotes: VXLAN ports (RFC 7348) toward remote VTEPs, the kernel's vxlan among them.
import { Command, Option } from 'commander';

import { request } from '../../control/client.js';
import type { VxlanInfo } from '../../switch/vxlan-ports.js';
import { table } from '../format.js';
import { jsonOption, print, switchOption, wholeIn } from '../options.js';
import { MTU, L4_PORT, VID, VNI } from '../../control/limits.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function formatVxlans(ports: VxlanInfo[]): string {
  if (ports.length === 0) return 'no VXLAN ports';
  return table(
    ['PORT', 'NAME', 'VNI', 'LOCAL', 'NETNS', 'UDP', 'REMOTES', 'VLAN', 'MTU', 'LEARNING', 'CSUM'],
    ports.map((v) => [v.id, v.name, v.vni, v.local, v.netns ?? '-', v.port, v.remotes.join(',') || '-', v.vlan ?? '-', v.mtu, v.learning ? 'on' : 'off', v.checksum ? 'on' : 'off']),
  );
}

export function register(program: Command): void {
  const vxlan = program.command('vxlan').description('VXLAN ports (RFC 7348): the switch spans hosts over UDP, as the kernel vxlan device does');
  vxlan
    .command('add')
    .argument('<name>', 'the port name')
    .requiredOption('--vni <n>', 'the VXLAN network identifier, 0-16777215', wholeIn('--vni', VNI))
    .requiredOption('--local <ip>', 'the underlay address to send from and listen on (it must be on an interface)')
    .option('--netns <ns>', 'the namespace whose underlay the sockets live in (default: the host)')
    .option('--remote <ip>', 'a remote VTEP floods go to; repeat for more', collect)
    .option('--port <n>', 'the UDP port', wholeIn('--port', L4_PORT), 4789)
    .option('--vlan <vid>', 'make the port an access port of this VLAN: the VNI maps to it', wholeIn('--vlan', VID))
    .option('--mtu <n>', 'the inner MTU (default: the underlay MTU less 50)', wholeIn('--mtu', MTU))
    .addOption(new Option('--learning <on|off>', 'learn remote MACs against their VTEP; off: only remotes and static dsts may send').choices(['on', 'off']).default('on'))
    .addOption(new Option('--checksum <on|off>', 'UDP checksums on what it sends').choices(['on', 'off']).default('on'))
    .addOption(switchOption())
    .action(async (name: string, opts: { switch: string; vni: number; local: string; netns?: string; remote?: string[]; port: number; vlan?: number; mtu?: number; learning: 'on' | 'off'; checksum: 'on' | 'off' }) => {
      const args = {
        name,
        vni: opts.vni,
        local: opts.local,
        port: opts.port,
        learning: opts.learning === 'on',
        checksum: opts.checksum === 'on',
        ...(opts.netns !== undefined && { netns: opts.netns }),
        ...(opts.remote !== undefined && { remotes: opts.remote.join(',') }),
        ...(opts.vlan !== undefined && { vlan: opts.vlan }),
        ...(opts.mtu !== undefined && { mtu: opts.mtu }),
      };
      const v = await request(opts.switch, { cmd: 'vxlan-add', args });
      console.log(`added VXLAN port ${v.name} as port ${v.id}: VNI ${v.vni} on ${v.local}:${v.port}, inner MTU ${v.mtu}`);
    });
  vxlan
    .command('del')
    .argument('<name>', 'a VXLAN port')
    .addOption(switchOption())
    .action(async (name: string, opts: { switch: string }) => {
      await request(opts.switch, { cmd: 'vxlan-del', args: { name } });
      console.log(`removed VXLAN port ${name}`);
    });
  vxlan
    .command('show')
    .addOption(switchOption())
    .addOption(jsonOption())
    .action(async (opts: { switch: string; json?: boolean }) => {
      const ports = await request(opts.switch, { cmd: 'vxlan-show' });
      print(opts.json, ports, () => formatVxlans(ports));
    });
  vxlan
    .command('remotes')
    .description("replace a VXLAN port's remote VTEPs; none: floods go nowhere")
    .argument('<name>', 'a VXLAN port')
    .argument('[ips...]', 'the remote VTEPs')
    .addOption(switchOption())
    .action(async (name: string, ips: string[], opts: { switch: string }) => {
      const v = await request(opts.switch, { cmd: 'vxlan-remotes', args: { name, ...(ips.length > 0 && { remotes: ips.join(',') }) } });
      console.log(`${v.name} floods to ${v.remotes.join(', ') || 'no remote'}`);
    });
}
