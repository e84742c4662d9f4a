// The wire of Docker's remote network driver (libnetwork docs/remote.md and drivers/remote/api):
// JSON bodies POSTed to /Plugin.Activate and /NetworkDriver.<Method>, answered with JSON; a failure
// the driver understood is {"Err": "..."}.

export const PLUGIN_CONTENT_TYPE = 'application/vnd.docker.plugins.v1.2+json';

export interface IpamData {
  AddressSpace?: string;
  /** The subnet, like 172.30.0.0/24. */
  Pool: string;
  /** The gateway with the pool's prefix, like 172.30.0.1/24. */
  Gateway?: string;
  AuxAddresses?: Record<string, string>;
}

export interface CreateNetworkRequest {
  NetworkID: string;
  /** Docker's own keys, and the user's -o options under com.docker.network.generic. */
  Options?: Record<string, unknown>;
  IPv4Data?: IpamData[];
  IPv6Data?: IpamData[];
}

export interface EndpointInterface {
  Address?: string;
  AddressIPv6?: string;
  MacAddress?: string;
}

export interface CreateEndpointRequest {
  NetworkID: string;
  EndpointID: string;
  Options?: Record<string, unknown>;
  Interface?: EndpointInterface | null;
}

export interface EndpointRequest {
  NetworkID: string;
  EndpointID: string;
}

export interface JoinRequest extends EndpointRequest {
  /** The path of the container's network namespace. */
  SandboxKey: string;
  Options?: Record<string, unknown>;
}

export interface JoinResponse {
  InterfaceName: { SrcName: string; DstPrefix: string };
  Gateway?: string;
  GatewayIPv6?: string;
  StaticRoutes?: { Destination: string; RouteType: number; NextHop?: string }[];
  DisableGatewayService?: boolean;
}

/** One -p binding, as libnetwork's types.PortBinding: Proto is the IP protocol number. */
export interface PortBinding {
  Proto: number;
  IP?: string;
  Port: number;
  HostIP?: string;
  HostPort: number;
  HostPortEnd?: number;
}

export interface ExternalConnectivityRequest extends EndpointRequest {
  /** com.docker.network.portmap holds the -p bindings. */
  Options?: Record<string, unknown>;
}

export const GENERIC_OPTIONS = 'com.docker.network.generic';
export const PORT_MAP = 'com.docker.network.portmap';
