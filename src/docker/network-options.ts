// A Docker network's -o options: tapswitch.NAME=VALUE for each option of `tapswitch up` (checked by
// up itself), the plugin's own (which switch, the uplink), and Docker's MTU option. Anything else is
// refused, by name, before any switch starts.
import { InputError } from '../control/subnet.js';

/** The options of `tapswitch up` a network may set, each passed on as --NAME VALUE. */
const UP_OPTIONS = ['workers', 'ageing', 'fdb-size', 'conntrack-max', 'conntrack-max-per-host', 'conntrack-timeout', 'nat-filtering', 'poll', 'poll-us', 'poll-cpu', 'forward-link-local'] as const;
const PLUGIN_OPTIONS = ['switch', 'uplink', 'uplink-ip', 'uplink-via', 'uplink-netns'] as const;
const PREFIX = 'tapswitch.';
const DOCKER_MTU = 'com.docker.network.driver.mtu';

export interface UplinkOption {
  ifname: string;
  ip: string;
  via: string;
  netns?: string;
}

export interface NetworkOptions {
  /** The switch's name, if the user chose it. */
  switch?: string;
  /** `tapswitch up` arguments, like ['--workers', '2']. */
  upArgs: string[];
  uplink?: UplinkOption;
  /** The endpoints' MTU. */
  mtu?: number;
}

export function knownOptions(): string[] {
  return [...UP_OPTIONS, ...PLUGIN_OPTIONS].map((o) => PREFIX + o).concat(DOCKER_MTU);
}

export function parseNetworkOptions(given: Record<string, string>): NetworkOptions {
  const unknown = Object.keys(given).filter((key) => !knownOptions().includes(key));
  if (unknown.length > 0) throw new InputError(`unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: a tapswitch network takes ${knownOptions().join(', ')}`);
  const value = (name: string): string | undefined => given[PREFIX + name];
  const upArgs = UP_OPTIONS.flatMap((name) => (value(name) === undefined ? [] : [`--${name}`, value(name)!]));
  const options: NetworkOptions = { upArgs };
  if (value('switch') !== undefined) options.switch = value('switch')!;
  const mtu = given[DOCKER_MTU];
  if (mtu !== undefined) {
    if (!/^\d+$/.test(mtu) || Number(mtu) < 68 || Number(mtu) > 65535) throw new InputError(`${DOCKER_MTU} must be from 68 to 65535 bytes, got ${mtu}`);
    options.mtu = Number(mtu);
  }
  const uplink = value('uplink');
  const ip = value('uplink-ip');
  const via = value('uplink-via');
  if (uplink === undefined) {
    const stray = ['uplink-ip', 'uplink-via', 'uplink-netns'].filter((name) => value(name) !== undefined);
    if (stray.length > 0) throw new InputError(`${stray.map((s) => PREFIX + s).join(', ')} need ${PREFIX}uplink=IF, the interface toward the outside`);
  } else {
    if (ip === undefined || via === undefined) throw new InputError(`${PREFIX}uplink=${uplink} needs ${PREFIX}uplink-ip=ADDRESS/PREFIX (its own address) and ${PREFIX}uplink-via=NEXTHOP`);
    const netns = value('uplink-netns');
    options.uplink = { ifname: uplink, ip, via, ...(netns !== undefined && { netns }) };
  }
  return options;
}
