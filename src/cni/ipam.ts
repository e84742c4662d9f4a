// Delegation to an IPAM plugin (spec section 4): found in CNI_PATH, run with the same environment
// (CNI_COMMAND and, for GC's stale attachments, the attachment set for the call) and the whole
// network configuration on stdin, its stderr passed through. An IPAM plugin that does not speak
// the config's version (host-local 1.1 stops at 1.0.0) is called with the highest version both
// speak that has the same result format; the 1.1.0-only commands STATUS and GC skip such a plugin.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

import { CNI_CODE, CniError, type CniErrorObject } from './errors.js';
import type { CniEnv, CniCommand } from './env.js';
import { SUPPORTED_VERSIONS, type NetConf } from './config.js';
import type { CniResult } from './result.js';

interface Outcome {
  code: number | null;
  stdout: string;
}

function findPlugin(type: string, path: readonly string[]): string {
  for (const dir of path) {
    const file = join(dir, type);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not in this directory: the next one may have it.
    }
  }
  const where = path.length > 0 ? `CNI_PATH (${path.join(':')})` : 'CNI_PATH, which is empty';
  throw new CniError(CNI_CODE.invalidConfig, `IPAM plugin ${type} not found`, `no executable ${type} in ${where}: install it (host-local is in containernetworking-plugins) or add its directory to the runtime's plugin path`);
}

function exec(file: string, env: NodeJS.ProcessEnv, stdin: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.once('error', (e) => reject(new CniError(CNI_CODE.io, `cannot run IPAM plugin ${file}`, e.message)));
    child.once('close', (code) => resolve({ code, stdout }));
    child.stdin.end(stdin);
  });
}

export class Ipam {
  private readonly file: string;
  private versions: readonly string[] | undefined;

  constructor(
    private readonly conf: NetConf & { ipam: NonNullable<NetConf['ipam']> },
    private readonly env: CniEnv,
  ) {
    this.file = findPlugin(conf.ipam.type, env.path);
  }

  private get type(): string {
    return this.conf.ipam.type;
  }

  private async supportedVersions(): Promise<readonly string[]> {
    if (this.versions) return this.versions;
    const out = await exec(this.file, { ...process.env, CNI_COMMAND: 'VERSION' }, JSON.stringify({ cniVersion: this.conf.cniVersion }));
    try {
      this.versions = (JSON.parse(out.stdout) as { supportedVersions: string[] }).supportedVersions;
    } catch {
      throw new CniError(CNI_CODE.decode, `IPAM plugin ${this.type} answered VERSION with something that is not a version result`, out.stdout.slice(0, 200) || '(nothing)');
    }
    return this.versions;
  }

  /** The config's version if the plugin speaks it, else the newest of ours it speaks; undefined if none. */
  private async versionFor(command: CniCommand): Promise<string | undefined> {
    const theirs = await this.supportedVersions();
    if (theirs.includes(this.conf.cniVersion)) return this.conf.cniVersion;
    if (command === 'STATUS' || command === 'GC') return undefined;
    return [...SUPPORTED_VERSIONS].reverse().find((v) => theirs.includes(v));
  }

  /** Whether the plugin takes `command` at all: STATUS and GC need it to speak 1.1.0. */
  async speaks(command: CniCommand): Promise<boolean> {
    return (await this.versionFor(command)) !== undefined;
  }

  /**
   * Runs the plugin with `command`; `attachment` overrides the attachment's variables (GC's stale
   * ones). ADD returns its result, the others nothing. Its error object is passed on, its code kept.
   */
  async run(command: CniCommand, attachment?: Partial<Pick<CniEnv, 'containerId' | 'ifname' | 'netns'>>, extra: Record<string, unknown> = {}): Promise<CniResult | undefined> {
    const version = await this.versionFor(command);
    if (version === undefined) {
      throw new CniError(CNI_CODE.incompatibleVersion, `IPAM plugin ${this.type} does not speak CNI ${this.conf.cniVersion}`, `it speaks ${(await this.supportedVersions()).join(', ')}: use an IPAM plugin that speaks ${SUPPORTED_VERSIONS.join(' or ')}`);
    }
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CNI_COMMAND: command,
      ...(attachment?.containerId !== undefined && { CNI_CONTAINERID: attachment.containerId }),
      ...(attachment?.ifname !== undefined && { CNI_IFNAME: attachment.ifname }),
      ...(attachment?.netns !== undefined && { CNI_NETNS: attachment.netns }),
    };
    const out = await exec(this.file, env, JSON.stringify({ ...this.conf.raw, ...extra, cniVersion: version }));
    if (out.code !== 0) {
      let error: Partial<CniErrorObject> = {};
      try {
        error = JSON.parse(out.stdout) as CniErrorObject;
      } catch {
        // Not the spec's error object: its output goes into the details as it is.
      }
      const code = typeof error.code === 'number' ? error.code : CNI_CODE.switchRefused;
      throw new CniError(code, `IPAM plugin ${this.type} failed ${command}`, [error.msg, error.details].filter(Boolean).join(': ') || out.stdout.trim() || `it exited ${out.code}`);
    }
    if (command !== 'ADD') return undefined;
    try {
      return { ...(JSON.parse(out.stdout) as CniResult), cniVersion: this.conf.cniVersion };
    } catch {
      throw new CniError(CNI_CODE.decode, `IPAM plugin ${this.type} answered ADD with something that is not a result`, out.stdout.slice(0, 200) || '(nothing)');
    }
  }
}
