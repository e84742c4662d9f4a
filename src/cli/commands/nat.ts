// uplink add/del, publish, unpublish, nat list and conntrack: the way out of the subnet and back in.
import { Argument, Option, type Command } from 'commander';

import { request } from '../../control/client.js';
import { MTU } from '../../control/limits.js';
import { formatPorts, parseHostPort, parsePublishSpec } from '../../control/publish-spec.js';
import type { PublishArgs } from '../../control/protocol.js';
import { checkIfname, checkNetns } from '../../control/requests/names.js';
import { ipToNumber, parseCidr } from '../../control/subnet.js';
import { formatConntrack, formatNat } from '../format.js';
import { acceptedBy, checkedBy, jsonOption, offloadArg, offloadOption, print, switchOption, wholeIn } from '../options.js';

export function register(program: Command): void {
  const uplink = program.command('uplink').description('the interface toward the outside: masquerade out, published ports in');
  uplink
    .command('add')
    .argument('[ifname]', 'an existing interface, used through AF_PACKET (or use --tap)', acceptedBy((value) => checkIfname(value, 'uplink interface')))
    .addOption(switchOption())
    .addOption(new Option('--tap <name>', 'create a TAP of this name instead; its kernel side gets the next hop address').argParser(acceptedBy((value) => checkIfname(value, '--tap'))))
    .addOption(new Option('--netns <ns>', 'the namespace the interface is in, or the TAP goes to (default: the host)').argParser(acceptedBy(checkNetns)))
    .addOption(new Option('--ip <cidr>', "the uplink's own address, like 192.0.2.2/24").makeOptionMandatory().argParser(acceptedBy(parseCidr, '--ip')))
    .addOption(new Option('--via <ip>', 'the next hop everything outside the subnet goes to').makeOptionMandatory().argParser(acceptedBy(ipToNumber, '--via')))
    .addOption(new Option('--mtu <bytes>', `the TAP's MTU, ${MTU.min}-${MTU.max} (an interface's own is read)`).argParser(wholeIn('--mtu', MTU)))
    .addOption(offloadOption())
    .addOption(jsonOption())
    .action(async (ifname: string | undefined, opts: { switch: string; tap?: string; netns?: string; ip: string; via: string; mtu?: number; offload?: 'on' | 'off'; json?: boolean }, command: Command) => {
      if ((ifname === undefined) === (opts.tap === undefined)) command.error('name an existing interface, or --tap NAME for a TAP the switch creates (not both)', { exitCode: 2 });
      const u = await request(opts.switch, {
        cmd: 'uplink-add',
        args: { ...(ifname !== undefined && { ifname }), ...(opts.tap !== undefined && { tap: opts.tap }), ...(opts.netns !== undefined && { netns: opts.netns }), ip: opts.ip, via: opts.via, ...(opts.mtu !== undefined && { mtu: opts.mtu }), ...offloadArg(opts.offload) },
      });
      print(opts.json, u, () => `uplink ${u.name} (port ${u.port}, ${u.kind}) ${u.ip}/${u.prefix} ${u.mac} via ${u.via} ${u.viaMac ? `at ${u.viaMac}` : '(no ARP answer yet; retried as traffic flows)'}`);
    });
  uplink
    .command('del')
    .addOption(switchOption())
    .action(async (opts: { switch: string }) => {
      const r = await request(opts.switch, { cmd: 'uplink-del' });
      console.log(`removed uplink ${r.name}`);
    });

  program
    .command('publish')
    .description('publish a port of a namespace on the uplink address, like docker run -p')
    .argument('<spec>', 'HOSTPORT[-LAST]:NS:PORT[-LAST][/tcp|udp], like 8080:ns1:80 or 9000-9002:ns1:9000-9002/udp', checkedBy(parsePublishSpec))
    .addOption(switchOption())
    .action(async (spec: PublishArgs, opts: { switch: string }) => {
      const p = await request(opts.switch, { cmd: 'publish', args: spec });
      console.log(`published ${p.uplinkIp ?? '(uplink address)'}:${formatPorts(p.hostPort, p.count)}/${p.protocol} -> ${p.netns} ${p.ip}:${formatPorts(p.port, p.count)}`);
    });

  program
    .command('unpublish')
    .description('stop publishing a host port; its open connections run on until they end')
    .argument('<hostport>', 'HOSTPORT[/tcp|udp]', checkedBy(parseHostPort))
    .addOption(switchOption())
    .action(async (spec: ReturnType<typeof parseHostPort>, opts: { switch: string }) => {
      const r = await request(opts.switch, { cmd: 'unpublish', args: spec });
      console.log(`unpublished ${r.hostPort}/${r.protocol}`);
    });

  const nat = program.command('nat').description('the NAT rules');
  nat
    .command('list')
    .addOption(switchOption())
    .addOption(jsonOption())
    .action(async (opts: { switch: string; json?: boolean }) => {
      const view = await request(opts.switch, { cmd: 'nat-list' });
      print(opts.json, view, () => formatNat(view));
    });

  program
    .command('conntrack')
    .description('NAT sessions as conntrack -L lists them; `conntrack flush` empties the table')
    .addArgument(new Argument('[action]', 'list or flush').choices(['list', 'flush']).default('list'))
    .addOption(switchOption())
    .addOption(jsonOption())
    .action(async (action: 'list' | 'flush', opts: { switch: string; json?: boolean }) => {
      if (action === 'flush') {
        const r = await request(opts.switch, { cmd: 'conntrack-flush' });
        console.log(`tapswitch: ${r.flushed} flow entries have been deleted.`);
        return;
      }
      const entries = await request(opts.switch, { cmd: 'conntrack' });
      print(opts.json, entries, () => formatConntrack(entries));
    });
}
