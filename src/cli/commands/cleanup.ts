// cleanup: what a daemon that died left behind, removed.
import type { Command } from 'commander';

import { cleanupAll } from '../../control/cleanup.js';
import { InputError } from '../../control/subnet.js';

export function register(program: Command): void {
  program
    .command('cleanup')
    .description("remove what a switch that died left behind (namespaces it created, sockets, pidfiles) and show the end of its log, kept as <name>.log.1")
    .option('--switch <name>', 'only this switch (default: every dead one)')
    .action(async (opts: { switch?: string }) => {
      const reports = await cleanupAll(opts.switch);
      if (reports.length === 0) console.log('nothing to clean up');
      for (const r of reports) {
        if (r.outcome === 'running') console.log(`${r.switch}: running; stop it with tapswitch down --switch ${r.switch}`);
        else if (r.outcome === 'unresponsive') console.log(`${r.switch}: its daemon (pid ${r.pid}) is alive but does not answer; end it with kill ${r.pid}, then run cleanup again`);
        else console.log(`${r.switch}: removed ${r.removed.length > 0 ? r.removed.join(', ') : 'nothing'}`);
        if (r.log) {
          console.log(`${r.switch}: its log is kept as ${r.log.kept}; it ended with:`);
          for (const line of r.log.lastLines) console.log(`  ${line}`);
        }
        if (r.failed) throw new InputError(`${r.switch}: could not remove ${r.failed.join('; ')}`);
      }
    });
}
