// A CNI runtime small enough to read: it runs plugins by the spec's execution protocol (section 3)
// with the CNI_* variables and the derived config on stdin, chains prevResult through a conflist
// on ADD, runs it in reverse on DEL, and hands each plugin the final result on DEL and CHECK.
// The plugin binaries are found in `path`; with `hostNetns` every plugin runs inside that
// namespace, which then stands for the host, so portmap's iptables rules stay in the test's own.
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CNI_PLUGIN_ENTRY = fileURLToPath(new URL('../../dist/src/cni/main.js', import.meta.url));
export const SYSTEM_CNI_DIR = '/usr/lib/cni';

/** Puts an executable tapswitch-cni in `dir` that runs the built plugin with this node, as npm's bin link would. */
export function installPlugin(dir: string): string {
  const file = join(dir, 'tapswitch-cni');
  writeFileSync(file, `#!/bin/sh\nexec '${process.execPath}' '${CNI_PLUGIN_ENTRY}' "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

export interface Attachment {
  containerId: string;
  netns?: string;
  ifname: string;
  args?: string;
}

export interface PluginOutcome {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout as JSON, when it is. */
  json: Record<string, unknown> | undefined;
}

export interface RuntimeOptions {
  /** CNI_PATH's directories. */
  path: string[];
  /** Extra environment, such as TAPSWITCH_RUN_DIR. */
  env: NodeJS.ProcessEnv;
  hostNetns?: string;
}

export class CniRuntime {
  constructor(private readonly options: RuntimeOptions) {}

  /** Runs one plugin by hand: the config as given (an object, or text to test decoding), the variables as given. */
  exec(type: string, vars: Record<string, string>, config: unknown): PluginOutcome {
    const file = this.options.path.map((dir) => join(dir, type)).find((f) => spawnSync('test', ['-x', f]).status === 0);
    if (!file) throw new Error(`plugin ${type} is not in ${this.options.path.join(':')}`);
    const [cmd, args] = this.options.hostNetns ? ['ip', ['netns', 'exec', this.options.hostNetns, file]] : [file, []];
    const r = spawnSync(cmd, args, {
      input: typeof config === 'string' ? config : JSON.stringify(config),
      encoding: 'utf8',
      env: { ...process.env, ...this.options.env, CNI_PATH: this.options.path.join(':'), ...vars },
      timeout: 60_000,
    });
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(r.stdout) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
  }

  private vars(command: string, a: Attachment): Record<string, string> {
    return { CNI_COMMAND: command, CNI_CONTAINERID: a.containerId, CNI_NETNS: a.netns ?? '', CNI_IFNAME: a.ifname, CNI_ARGS: a.args ?? '' };
  }

  /** The config one plugin of `list` gets: cniVersion and name inserted, capabilities turned into runtimeConfig. */
  private derive(list: ConfList, plugin: PluginConf, extra: Record<string, unknown>, capabilityArgs: Record<string, unknown>): Record<string, unknown> {
    const { capabilities, ...rest } = plugin;
    const runtimeConfig = Object.fromEntries(Object.entries(capabilityArgs).filter(([k]) => capabilities?.[k] === true));
    return { ...rest, cniVersion: list.cniVersion, name: list.name, ...(Object.keys(runtimeConfig).length > 0 && { runtimeConfig }), ...extra };
  }

  private fail(command: string, plugin: PluginConf, out: PluginOutcome): never {
    throw new Error(`${plugin.type} ${command} exited ${out.status}: ${out.stdout}${out.stderr}`);
  }

  /** ADD through the list; returns the final result. */
  add(list: ConfList, a: Attachment, capabilityArgs: Record<string, unknown> = {}): Record<string, unknown> {
    let prevResult: Record<string, unknown> | undefined;
    for (const plugin of list.plugins) {
      const out = this.exec(plugin.type, this.vars('ADD', a), this.derive(list, plugin, prevResult ? { prevResult } : {}, capabilityArgs));
      if (out.status !== 0 || !out.json) this.fail('ADD', plugin, out);
      prevResult = out.json;
    }
    return prevResult!;
  }

  check(list: ConfList, a: Attachment, result: Record<string, unknown>, capabilityArgs: Record<string, unknown> = {}): void {
    for (const plugin of list.plugins) {
      const out = this.exec(plugin.type, this.vars('CHECK', a), this.derive(list, plugin, { prevResult: result }, capabilityArgs));
      if (out.status !== 0) this.fail('CHECK', plugin, out);
    }
  }

  del(list: ConfList, a: Attachment, result: Record<string, unknown> | undefined, capabilityArgs: Record<string, unknown> = {}): void {
    for (const plugin of [...list.plugins].reverse()) {
      const out = this.exec(plugin.type, this.vars('DEL', a), this.derive(list, plugin, result ? { prevResult: result } : {}, capabilityArgs));
      if (out.status !== 0) this.fail('DEL', plugin, out);
    }
  }
}

export interface PluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface ConfList {
  cniVersion: string;
  name: string;
  plugins: PluginConf[];
}
