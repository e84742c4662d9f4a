// ls: every switch of the run directory with its state, addresses and size, as `docker network ls`.
import type { Command } from 'commander';

import { listSwitches } from '../../control/listing.js';
import { formatSwitchList } from '../format-switch.js';
import { jsonOption, print } from '../options.js';

export function register(program: Command): void {
  program
    .command('ls')
    .alias('list')
    .description('list the switches: running, starting, stopping, or dead with the command that cleans up after them')
    .addOption(jsonOption())
    .action(async (opts: { json?: boolean }) => {
      const listings = await listSwitches();
      print(opts.json, listings, () => formatSwitchList(listings));
    });
}
