// The CNI parameters a runtime passes as environment variables (spec section 2), checked for the
// command at hand: a missing or malformed one is code 4, naming the variable.
import { delimiter } from 'node:path';

import { CNI_CODE, CniError } from './errors.js';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'STATUS', 'VERSION', 'GC'] as const;
export type CniCommand = (typeof COMMANDS)[number];

export interface CniEnv {
  command: CniCommand;
  containerId: string;
  /** The container's network namespace path; DEL may come without one. */
  netns: string;
  ifname: string;
  /** CNI_ARGS as pairs: MAC and IP are read, the rest (K8S_POD_NAME, IgnoreUnknown...) ignored. */
  args: Map<string, string>;
  /** CNI_PATH's directories, where delegated (IPAM) plugins are looked for. */
  path: string[];
}

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const IFNAMSIZ = 15;

/** What each command needs set, as the spec lists its required parameters. */
const REQUIRED: Record<CniCommand, readonly string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  STATUS: [],
  VERSION: [],
  GC: [],
};

function invalidEnv(details: string): CniError {
  return new CniError(CNI_CODE.invalidEnv, 'invalid CNI environment variables', details);
}

export function commandOf(env: NodeJS.ProcessEnv): CniCommand {
  const command = env.CNI_COMMAND;
  if (command === undefined || command === '') throw invalidEnv(`CNI_COMMAND is not set: tapswitch-cni is a CNI plugin, run by a container runtime with CNI_COMMAND set to one of ${COMMANDS.join(', ')}`);
  if (!(COMMANDS as readonly string[]).includes(command)) throw invalidEnv(`CNI_COMMAND "${command}" is none of ${COMMANDS.join(', ')}`);
  return command as CniCommand;
}

function parseArgs(text: string): Map<string, string> {
  const args = new Map<string, string>();
  for (const pair of text.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw invalidEnv(`CNI_ARGS "${text}" must be KEY=VALUE pairs separated by ';', like IgnoreUnknown=1;MAC=02:42:0a:00:00:02`);
    args.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return args;
}

export function readEnv(env: NodeJS.ProcessEnv): CniEnv {
  const command = commandOf(env);
  const missing = REQUIRED[command].filter((name) => (env[name] ?? '') === '');
  if (missing.length > 0) throw invalidEnv(`${command} needs ${missing.join(', ')} set: ${missing.length === 1 ? 'it is' : 'they are'} missing or empty`);
  const containerId = env.CNI_CONTAINERID ?? '';
  if (containerId !== '' && !CONTAINER_ID.test(containerId)) throw invalidEnv(`CNI_CONTAINERID "${containerId}" must start with a letter or digit, then letters, digits, '_', '.' or '-'`);
  const ifname = env.CNI_IFNAME ?? '';
  if (ifname !== '' && (ifname.length > IFNAMSIZ || /[\s/:]/.test(ifname) || ifname === '.' || ifname === '..')) {
    throw invalidEnv(`CNI_IFNAME "${ifname}" must be an interface name: 1-${IFNAMSIZ} characters, no spaces, '/' or ':'`);
  }
  return {
    command,
    containerId,
    netns: env.CNI_NETNS ?? '',
    ifname,
    args: parseArgs(env.CNI_ARGS ?? ''),
    path: (env.CNI_PATH ?? '').split(delimiter).filter((dir) => dir !== ''),
  };
}
