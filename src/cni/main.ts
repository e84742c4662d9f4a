#!/usr/bin/env node
// tapswitch-cni: the CNI plugin (spec 1.0.0 and 1.1.0) that attaches a container's network
// namespace to a tapswitch switch. A runtime runs it with CNI_COMMAND and the other CNI_*
// variables set and the network configuration on stdin; it answers on stdout with the result, or
// with the spec's error object and exit code 1. stderr carries only what delegated plugins say.
import { checkVersion, decodeConfig, parseConfig, SUPPORTED_VERSIONS } from './config.js';
import { add } from './add.js';
import { check } from './check.js';
import { del } from './del.js';
import { commandOf, readEnv } from './env.js';
import { CNI_CODE, CniError, errorObject } from './errors.js';
import { gc } from './gc.js';
import { status } from './status.js';

const LATEST = SUPPORTED_VERSIONS.at(-1)!;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  } catch (e) {
    throw new CniError(CNI_CODE.io, 'cannot read the network configuration', `reading stdin failed: ${(e as Error).message}`);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Runs the command; the version errors are reported in, once the config has said which it is. */
async function run(reportIn: (version: string) => void): Promise<void> {
  const command = commandOf(process.env);
  const text = await readStdin();
  if (command === 'VERSION') {
    const raw = text.trim() === '' ? {} : decodeConfig(text);
    print({ cniVersion: typeof raw.cniVersion === 'string' ? raw.cniVersion : LATEST, supportedVersions: SUPPORTED_VERSIONS });
    return;
  }
  const raw = decodeConfig(text);
  if (typeof raw.cniVersion === 'string') reportIn(raw.cniVersion);
  if ((command === 'STATUS' || command === 'GC') && checkVersion(raw) !== '1.1.0') {
    throw new CniError(CNI_CODE.incompatibleVersion, `${command} is a CNI 1.1.0 command`, `the network configuration says cniVersion ${String(raw.cniVersion)}: set "cniVersion": "1.1.0" to use ${command}`);
  }
  const conf = parseConfig(raw);
  const env = readEnv(process.env);
  switch (command) {
    case 'ADD':
      return print(await add(conf, env));
    case 'DEL':
      return del(conf, env);
    case 'CHECK':
      return check(conf, env);
    case 'STATUS':
      return status(conf, env);
    case 'GC':
      return gc(conf, env);
  }
}

let version: string = LATEST;
try {
  await run((v) => (version = v));
} catch (e) {
  if (process.env.TAPSWITCH_DEBUG === '1' && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  print(errorObject(version, e));
  process.exitCode = 1;
}
