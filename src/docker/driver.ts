// The NetworkDriver a Docker daemon calls, one switch per network. CreateNetwork starts the switch
// with Docker's subnet and gateway; CreateEndpoint has it make a TAP with the endpoint's address and
// MAC; Join hands that TAP to libnetwork, which moves it into the container as eth0 and routes by
// the gateway Join returns; Leave needs nothing (libnetwork moves the TAP back to the host);
// DeleteEndpoint detaches it, which deletes it. -p goes through the switch's NAT on its uplink.
// Calls run one at a time, as a switch daemon's requests do, so the state file has one writer.
import { request } from '../control/client.js';
import { InputError, formatSubnet, macForIp, parseCidr, parseSubnet } from '../control/subnet.js';
import type { CreateEndpointRequest, CreateNetworkRequest, EndpointRequest, ExternalConnectivityRequest, JoinRequest, JoinResponse, PortBinding } from './api.js';
import { GENERIC_OPTIONS, PORT_MAP } from './api.js';
import { parseNetworkOptions } from './network-options.js';
import { startSwitch, stopSwitch } from './network-switch.js';
import { readPluginState, writePluginState, type EndpointRecord, type NetworkRecord, type PluginState } from './plugin-state.js';

const TCP = 6;
const UDP = 17;
const ID_SHOWN = 12;

type Handler = (body: never) => unknown;

export class NetworkDriver {
  private readonly state: PluginState;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly plugin: string,
    private readonly log: (line: string) => void,
  ) {
    this.state = readPluginState(plugin);
  }

  /** Every method by its URL path; a path not here is answered 404, as the protocol asks. */
  readonly methods: Record<string, Handler> = {
    '/Plugin.Activate': () => ({ Implements: ['NetworkDriver'] }),
    '/NetworkDriver.GetCapabilities': () => ({ Scope: 'local', ConnectivityScope: 'local' }),
    '/NetworkDriver.CreateNetwork': (body: CreateNetworkRequest) => this.serial(() => this.createNetwork(body)),
    '/NetworkDriver.DeleteNetwork': (body: { NetworkID: string }) => this.serial(() => this.deleteNetwork(body.NetworkID)),
    '/NetworkDriver.CreateEndpoint': (body: CreateEndpointRequest) => this.serial(() => this.createEndpoint(body)),
    '/NetworkDriver.DeleteEndpoint': (body: EndpointRequest) => this.serial(() => this.deleteEndpoint(body.EndpointID)),
    '/NetworkDriver.EndpointOperInfo': (body: EndpointRequest) => this.operInfo(body.EndpointID),
    '/NetworkDriver.Join': (body: JoinRequest) => this.join(body),
    '/NetworkDriver.Leave': () => ({}),
    '/NetworkDriver.DiscoverNew': () => ({}),
    '/NetworkDriver.DiscoverDelete': () => ({}),
    '/NetworkDriver.ProgramExternalConnectivity': (body: ExternalConnectivityRequest) => this.serial(() => this.publish(body)),
    '/NetworkDriver.RevokeExternalConnectivity': (body: EndpointRequest) => this.serial(() => this.unpublish(body.EndpointID)),
  };

  private serial<T>(body: () => Promise<T>): Promise<T> {
    const run = this.queue.then(body);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private save(): void {
    writePluginState(this.plugin, this.state);
  }

  /** Brings back the switch of every network whose daemon is gone since the plugin last ran. */
  async restore(): Promise<void> {
    for (const [id, n] of Object.entries(this.state.networks)) {
      await this.serial(() => startSwitch(n.switch, n.subnet, n.gateway, parseNetworkOptions(n.options))).then(
        () => this.log(`network ${id.slice(0, ID_SHOWN)}: switch ${n.switch} running`),
        (e: Error) => this.log(`network ${id.slice(0, ID_SHOWN)}: switch ${n.switch} could not start again: ${e.message}`),
      );
    }
  }

  private network(id: string): NetworkRecord {
    const n = this.state.networks[id];
    if (!n) throw new InputError(`network ${id.slice(0, ID_SHOWN)} is not one of plugin ${this.plugin}'s: remove it with docker network rm, and create it again`);
    return n;
  }

  private endpoint(id: string): EndpointRecord {
    const e = this.state.endpoints[id];
    if (!e) throw new InputError(`endpoint ${id.slice(0, ID_SHOWN)} is not one of plugin ${this.plugin}'s`);
    return e;
  }

  private async createNetwork(body: CreateNetworkRequest): Promise<object> {
    const generic = (body.Options?.[GENERIC_OPTIONS] ?? {}) as Record<string, string>;
    const options = parseNetworkOptions(generic);
    if ((body.IPv6Data ?? []).length > 0) throw new InputError('tapswitch networks are IPv4 only: leave out --ipv6');
    const pools = body.IPv4Data ?? [];
    if (pools.length !== 1) throw new InputError(`a tapswitch network has one IPv4 subnet, got ${pools.length}: give one --subnet`);
    const pool = pools[0]!;
    const subnet = formatSubnet(parseSubnet(pool.Pool));
    const gateway = pool.Gateway?.split('/')[0];
    if (gateway === undefined) throw new InputError('Docker gave the network no gateway: give one with --gateway');
    const name = options.switch ?? `docker-${body.NetworkID.slice(0, ID_SHOWN)}`;
    if (Object.values(this.state.networks).some((n) => n.switch === name)) throw new InputError(`switch ${name} already serves another network: choose another tapswitch.switch`);
    await startSwitch(name, subnet, gateway, options);
    this.state.networks[body.NetworkID] = { switch: name, subnet, gateway, options: generic };
    this.save();
    this.log(`network ${body.NetworkID.slice(0, ID_SHOWN)}: switch ${name}, subnet ${subnet}, gateway ${gateway}`);
    return {};
  }

  private async deleteNetwork(id: string): Promise<object> {
    const n = this.state.networks[id];
    // Docker retries a delete that failed; one already gone is done.
    if (!n) return {};
    await stopSwitch(n.switch);
    delete this.state.networks[id];
    for (const [eid, e] of Object.entries(this.state.endpoints)) if (e.network === id) delete this.state.endpoints[eid];
    this.save();
    this.log(`network ${id.slice(0, ID_SHOWN)}: switch ${n.switch} stopped`);
    return {};
  }

  private async createEndpoint(body: CreateEndpointRequest): Promise<object> {
    const n = this.network(body.NetworkID);
    const given = body.Interface ?? {};
    if (!given.Address) throw new InputError('the endpoint has no IPv4 address: a tapswitch network takes its addresses from Docker IPAM');
    const mac = given.MacAddress || macForIp(parseCidr(given.Address).ip);
    const port = `docker-${body.EndpointID.slice(0, ID_SHOWN)}`;
    const mtu = parseNetworkOptions(n.options).mtu;
    const view = await request(n.switch, { cmd: 'endpoint-add', args: { endpoint: port, ip: given.Address, mac, ...(mtu !== undefined && { mtu }) } });
    this.state.endpoints[body.EndpointID] = { network: body.NetworkID, port, tap: view.name, ip: given.Address, mac, published: [] };
    this.save();
    this.log(`endpoint ${body.EndpointID.slice(0, ID_SHOWN)} on ${n.switch}: TAP ${view.name} ${given.Address} ${mac}`);
    // The MAC is answered only when Docker gave none: libnetwork refuses a field set twice.
    return given.MacAddress ? {} : { Interface: { MacAddress: mac } };
  }

  private async deleteEndpoint(id: string): Promise<object> {
    const e = this.state.endpoints[id];
    if (!e) return {};
    const n = this.state.networks[e.network];
    if (n) {
      await request(n.switch, { cmd: 'detach', args: { netns: e.port } }).catch((err: Error) => {
        // A switch restarted since, or gone, no longer has the port: nothing is left to remove.
        if (!/is not attached|no switch|not running/.test(err.message)) throw err;
      });
    }
    delete this.state.endpoints[id];
    this.save();
    this.log(`endpoint ${id.slice(0, ID_SHOWN)} deleted`);
    return {};
  }

  private operInfo(id: string): object {
    const e = this.state.endpoints[id];
    if (!e) return { Value: {} };
    return { Value: { switch: this.state.networks[e.network]?.switch ?? null, port: e.port, tap: e.tap, ip: e.ip, mac: e.mac } };
  }

  private join(body: JoinRequest): JoinResponse {
    const n = this.network(body.NetworkID);
    const e = this.endpoint(body.EndpointID);
    return { InterfaceName: { SrcName: e.tap, DstPrefix: 'eth' }, Gateway: n.gateway };
  }

  private async publish(body: ExternalConnectivityRequest): Promise<object> {
    const bindings = (body.Options?.[PORT_MAP] ?? []) as PortBinding[];
    if (bindings.length === 0) return {};
    const n = this.network(body.NetworkID);
    const e = this.endpoint(body.EndpointID);
    if (parseNetworkOptions(n.options).uplink === undefined) {
      throw new InputError(`-p needs an uplink, and network switch ${n.switch} has none: create the network with -o tapswitch.uplink=IF -o tapswitch.uplink-ip=ADDRESS/PREFIX -o tapswitch.uplink-via=NEXTHOP`);
    }
    try {
      for (const b of bindings) {
        const protocol = b.Proto === TCP ? 'tcp' : b.Proto === UDP ? 'udp' : undefined;
        if (protocol === undefined) throw new InputError(`-p ${b.HostPort}:${b.Port}: only tcp and udp ports can be published`);
        if (b.HostPort === 0) throw new InputError(`-p ${b.Port}: name the host port, like -p 8080:${b.Port}; tapswitch does not choose one`);
        const count = b.HostPortEnd !== undefined && b.HostPortEnd > b.HostPort ? b.HostPortEnd - b.HostPort + 1 : 1;
        await request(n.switch, { cmd: 'publish', args: { hostPort: b.HostPort, netns: e.port, port: b.Port, protocol, count } });
        e.published.push({ hostPort: b.HostPort, protocol, count });
        this.log(`endpoint ${body.EndpointID.slice(0, ID_SHOWN)}: published ${b.HostPort}/${protocol} to ${e.ip.split('/')[0]}:${b.Port}`);
      }
    } catch (err) {
      await this.unpublish(body.EndpointID);
      throw err;
    } finally {
      this.save();
    }
    return {};
  }

  private async unpublish(id: string): Promise<object> {
    const e = this.state.endpoints[id];
    const n = e && this.state.networks[e.network];
    if (!e || !n) return {};
    for (const p of e.published) {
      for (let k = 0; k < p.count; k++) {
        await request(n.switch, { cmd: 'unpublish', args: { hostPort: p.hostPort + k, protocol: p.protocol } }).catch((err: Error) => this.log(`unpublish ${p.hostPort + k}/${p.protocol}: ${err.message}`));
      }
    }
    e.published = [];
    this.save();
    return {};
  }
}
