// A switch with its web view on a port of loopback the kernel picks, two namespaces attached,
// started through the CLI as a user would (up --web, attach, ui) and taken down after the tests.
import { afterAll, beforeAll } from 'vitest';

import type { PortView, WebView } from '../../src/control/protocol.js';
import { deleteNamespace, namespaceExists } from '../../src/netns/namespace.js';
import { uniqueName } from '../../src/netns/names.js';
import { cliWith, type Cli } from './cli.js';
import { useTempDir } from './kernel.js';

export interface WebLab {
  readonly sw: string;
  /** The two namespaces, attached in this order. */
  readonly namespaces: readonly [string, string];
  readonly cli: Cli;
  readonly runDir: string;
  /** The page's address, as `tapswitch ui` prints it (without the token). */
  readonly url: string;
  readonly token: string;
  ipOf(netns: string): string;
}

export function useWebLab(prefix: string): WebLab {
  const run = useTempDir(`tapswitch-${prefix}-`);
  const sw = uniqueName('tsw');
  const namespaces = [uniqueName('tsn'), uniqueName('tsn')] as const;
  const cli = cliWith(() => run.env);
  const ips = new Map<string, string>();
  let view: WebView | undefined;
  beforeAll(() => {
    cli.ok('up', '--switch', sw, '--workers', '1', '--web', '127.0.0.1:0', '--detach');
    for (const ns of namespaces) ips.set(ns, cli.json<PortView>('attach', ns, '--switch', sw).ip!.split('/')[0]!);
    view = cli.json<WebView>('ui', '--switch', sw);
  });
  afterAll(async () => {
    cli.run('down', '--switch', sw);
    cli.run('cleanup', '--switch', sw);
    for (const ns of namespaces) if (namespaceExists(ns)) await deleteNamespace(ns);
  });
  return {
    sw,
    namespaces,
    cli,
    get runDir() {
      return run.path;
    },
    get url() {
      return view!.url;
    },
    get token() {
      return view!.token;
    },
    ipOf: (netns) => ips.get(netns)!,
  };
}
