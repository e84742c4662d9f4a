// The switch a network names, running: started with `tapswitch up --detach` when it is not (a dead
// daemon's switch comes back as it was), with the subnet the config gives or the IPAM lease lies
// in. Two ADDs may race to start it; the switch's lock lets one daemon start, and the other ADD
// finds it running once it answers. A running switch whose subnet differs from the config's is
// refused, so that addresses are never handed out of a subnet the switch does not route.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { probeDaemon, request } from '../control/client.js';
import type { InfoView } from '../control/protocol.js';
import { switchPaths } from '../control/paths.js';
import { CNI_CODE, CniError } from './errors.js';
import type { NetConf } from './config.js';

const CLI_ENTRY = fileURLToPath(new URL('../cli/main.js', import.meta.url));
/** `up --detach` waits 15 s for its daemon; this is a little more. */
const START_TIMEOUT_MS = 20_000;

export interface StartHint {
  subnet: string;
  gateway?: string;
}

function upArgs(conf: NetConf, hint: StartHint | undefined): string[] {
  const subnet = conf.subnet ?? hint?.subnet;
  const gateway = conf.subnet !== undefined ? conf.gateway : hint?.gateway;
  return [
    'up', '--detach', '--switch', conf.switch,
    ...(subnet !== undefined ? ['--subnet', subnet] : []),
    ...(gateway !== undefined ? ['--gateway', gateway] : []),
    ...(conf.workers !== undefined ? ['--workers', String(conf.workers)] : []),
  ];
}

function startSwitch(args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_ENTRY, ...args], { encoding: 'utf8', timeout: START_TIMEOUT_MS }, (error, stdout, stderr) => {
      resolve({ ok: error === null, output: (stderr.trim() || stdout).trim() });
    });
  });
}

function checkSubnet(conf: NetConf, info: InfoView): InfoView {
  if (conf.subnet !== undefined && info.subnet !== conf.subnet) {
    throw new CniError(CNI_CODE.invalidConfig, `switch ${conf.switch} has another subnet`, `it runs with ${info.subnet}, the network configuration says ${conf.subnet}: make them the same, or name another switch in "switch"`);
  }
  return info;
}

/** The running switch's info, once it answers; starts it first if it is not running. */
export async function ensureSwitch(conf: NetConf, hint?: StartHint): Promise<InfoView> {
  if ((await probeDaemon(conf.switch)) === 'alive') return checkSubnet(conf, await request(conf.switch, { cmd: 'ping' }));
  const started = await startSwitch(upArgs(conf, hint));
  // Another ADD may have started it meanwhile, which is as good.
  if ((await probeDaemon(conf.switch)) === 'alive') return checkSubnet(conf, await request(conf.switch, { cmd: 'ping' }));
  const why = started.output.replace(/^tapswitch: /gm, '').split('\n').pop() ?? '';
  throw new CniError(CNI_CODE.switchStart, `switch ${conf.switch} could not start`, `${why || 'tapswitch up exited without a word'}; its log is ${switchPaths(conf.switch).log}`);
}
