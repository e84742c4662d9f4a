// docker-plugin: Docker's network driver for tapswitch, in this process until Ctrl-C or SIGTERM.
// Each network's switch is a daemon of its own, so the plugin can stop and start again under
// running containers; when it starts, it brings back the switches of its networks that died.
import { join } from 'node:path';

import type { Command } from 'commander';

import { checkSwitchName } from '../../control/paths.js';
import { NetworkDriver } from '../../docker/driver.js';
import { PLUGIN_DIR, listenPlugin } from '../../docker/plugin-server.js';
import { requireKernelAccess } from '../../util/preflight.js';

interface PluginOptions {
  name: string;
  socket?: string;
}

async function runPlugin(opts: PluginOptions): Promise<void> {
  requireKernelAccess(['ip']);
  const name = checkSwitchName(opts.name);
  const socket = opts.socket ?? join(PLUGIN_DIR, `${name}.sock`);
  const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
  const driver = new NetworkDriver(name, log);
  await driver.restore();
  const server = await listenPlugin(driver, socket, log);
  log(`docker plugin ${name} listening on ${socket}: docker network create -d ${name} NETWORK`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      server.close(() => resolve());
      // dockerd keeps its connections alive; they would hold the close back.
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  log(`docker plugin ${name} stopped; its networks' switches run on`);
}

export function register(program: Command): void {
  program
    .command('docker-plugin')
    .description("serve Docker's network driver API: docker network create -d tapswitch gets a switch per network")
    .option('--name <name>', 'the driver name Docker knows it by (docker network create -d NAME)', 'tapswitch')
    .option('--socket <path>', `its unix socket (default ${PLUGIN_DIR}/NAME.sock, where dockerd looks)`)
    .action((opts: PluginOptions) => runPlugin(opts));
}
