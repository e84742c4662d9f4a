// Which VLANs each port carries and in which form, in shared memory: the main thread sets them
// (`tapswitch vlan add`, `attach --vlan`, `port add --trunk`), workers read them per frame.
//
// Theory of operation. A port is in one of three modes:
//   all     the default, as in OVS (a port with neither tag nor trunks): a trunk of every VLAN.
//           A tagged frame belongs to its tag's VLAN and leaves tagged; an untagged frame belongs
//           to VLAN_UNTAGGED (0), the switch's untagged domain, and leaves untagged. A switch on
//           which nobody sets a VLAN so forwards tagged frames as it always did, one FDB per VLAN.
//   vlans   as `bridge vlan add dev P vid V [pvid] [untagged]`: the port carries the VLANs of its
//           member set; untagged frames arriving belong to its pvid (none: dropped); frames of a
//           VLAN marked untagged leave without a tag, others with it. An access port is one VLAN,
//           pvid and untagged; a trunk with a native VLAN is its VLANs plus the native one, pvid
//           and untagged.
//   tunnel  an 802.1ad (QinQ) tunnel port, as OVS's dot1q-tunnel: every frame that arrives,
//           tagged or not, belongs to the port's VLAN whole (its own tags are payload), and frames
//           of that VLAN leave it as they arrived at the switch. On trunks such a frame carries an
//           outer 802.1ad tag.
// Writers are the main thread only; a frame read while a port is being changed may see it half
// changed, as a frame in flight in the kernel's bridge sees RCU's old or new state.

/** The VLAN of untagged frames on ports in mode `all`: the switch's untagged domain. */
export const VLAN_UNTAGGED = 0;
export const VID_MIN = 1;
export const VID_MAX = 4094;

export const VLAN_MODE_ALL = 0;
export const VLAN_MODE_VLANS = 1;
export const VLAN_MODE_TUNNEL = 2;

/** egress(): how a port sends a VLAN's frames. */
export const EGRESS_NONE = 0;
export const EGRESS_UNTAGGED = 1;
export const EGRESS_TAGGED = 2;

const BITMAP_WORDS = 4096 / 32;
const P_MODE = 0;
/** The VLAN of untagged (mode vlans) or all (mode tunnel) frames arriving; 0: none. */
const P_PVID = 1;
const P_MEMBER = 2;
const P_UNTAGGED = P_MEMBER + BITMAP_WORDS;
const PORT_WORDS = P_UNTAGGED + BITMAP_WORDS;

export interface PortVlan {
  vid: number;
  pvid: boolean;
  untagged: boolean;
}

/** A port's VLAN settings, as `vlan show` prints them and the state file keeps them. */
export type PortVlans =
  | { mode: 'all' }
  | { mode: 'vlans'; vlans: PortVlan[] }
  | { mode: 'tunnel'; vid: number };

export class VlanTable {
  private readonly words: Int32Array;

  private constructor(readonly buffer: SharedArrayBuffer, readonly ports: number) {
    this.words = new Int32Array(buffer);
  }

  static create(ports: number): VlanTable {
    return new VlanTable(new SharedArrayBuffer(ports * PORT_WORDS * 4), ports);
  }

  /** The same table seen from another thread. */
  static adopt(buffer: SharedArrayBuffer): VlanTable {
    return new VlanTable(buffer, buffer.byteLength / (PORT_WORDS * 4));
  }

  // Per frame, from the workers.

  mode(port: number): number {
    return this.words[port * PORT_WORDS + P_MODE]!;
  }

  /** The VLAN untagged frames arriving on a `vlans` port belong to, or of every frame on a `tunnel` port; 0: none. */
  pvid(port: number): number {
    return this.words[port * PORT_WORDS + P_PVID]!;
  }

  /** Whether the port carries VLAN `vid` (0: the untagged domain, which only `all` ports carry). */
  carries(port: number, vid: number): boolean {
    const base = port * PORT_WORDS;
    const mode = this.words[base + P_MODE]!;
    if (mode === VLAN_MODE_ALL) return true;
    if (mode === VLAN_MODE_TUNNEL) return vid === this.words[base + P_PVID];
    return vid !== VLAN_UNTAGGED && (this.words[base + P_MEMBER + (vid >>> 5)]! & (1 << (vid & 31))) !== 0;
  }

  /**
   * How frames of `vid` leave the port, from one read of its mode: EGRESS_UNTAGGED, EGRESS_TAGGED,
   * or EGRESS_NONE when it does not carry the VLAN (carries() and untaggedOut() in one, per frame).
   */
  egress(port: number, vid: number): number {
    const base = port * PORT_WORDS;
    const mode = this.words[base + P_MODE]!;
    if (mode === VLAN_MODE_ALL) return vid === VLAN_UNTAGGED ? EGRESS_UNTAGGED : EGRESS_TAGGED;
    if (mode === VLAN_MODE_TUNNEL) return vid === this.words[base + P_PVID] ? EGRESS_UNTAGGED : EGRESS_NONE;
    const word = vid >>> 5;
    const bit = 1 << (vid & 31);
    if (vid === VLAN_UNTAGGED || (this.words[base + P_MEMBER + word]! & bit) === 0) return EGRESS_NONE;
    return (this.words[base + P_UNTAGGED + word]! & bit) !== 0 ? EGRESS_UNTAGGED : EGRESS_TAGGED;
  }

  /** Whether frames of `vid` (which the port carries) leave it without their VLAN's tag. */
  untaggedOut(port: number, vid: number): boolean {
    const base = port * PORT_WORDS;
    const mode = this.words[base + P_MODE]!;
    if (mode === VLAN_MODE_ALL) return vid === VLAN_UNTAGGED;
    if (mode === VLAN_MODE_TUNNEL) return true;
    return (this.words[base + P_UNTAGGED + (vid >>> 5)]! & (1 << (vid & 31))) !== 0;
  }

  // Settings, from the main thread.

  /** Back to mode `all`: a port that was just created or removed. */
  reset(port: number): void {
    this.words.fill(0, port * PORT_WORDS, (port + 1) * PORT_WORDS);
  }

  /** `bridge vlan add dev PORT vid VID [pvid] [untagged]`: a port in mode `all` or `tunnel` becomes a `vlans` port of this VLAN alone. */
  add(port: number, vid: number, flags: { pvid?: boolean; untagged?: boolean } = {}): void {
    checkVid(vid);
    const base = port * PORT_WORDS;
    if (this.words[base + P_MODE] !== VLAN_MODE_VLANS) {
      this.reset(port);
      this.words[base + P_MODE] = VLAN_MODE_VLANS;
    }
    const word = vid >>> 5;
    const bit = 1 << (vid & 31);
    this.words[base + P_MEMBER + word]! |= bit;
    if (flags.untagged === true) this.words[base + P_UNTAGGED + word]! |= bit;
    else this.words[base + P_UNTAGGED + word]! &= ~bit;
    if (flags.pvid === true) this.words[base + P_PVID] = vid;
    else if (this.words[base + P_PVID] === vid) this.words[base + P_PVID] = 0;
  }

  /** Removes VLAN `vid` from a `vlans` port; false when it did not carry it. A port left with no VLAN carries none. */
  del(port: number, vid: number): boolean {
    checkVid(vid);
    const base = port * PORT_WORDS;
    if (this.words[base + P_MODE] !== VLAN_MODE_VLANS) return false;
    const word = vid >>> 5;
    const bit = 1 << (vid & 31);
    if ((this.words[base + P_MEMBER + word]! & bit) === 0) return false;
    this.words[base + P_MEMBER + word]! &= ~bit;
    this.words[base + P_UNTAGGED + word]! &= ~bit;
    if (this.words[base + P_PVID] === vid) this.words[base + P_PVID] = 0;
    return true;
  }

  /** An access port: VLAN `vid` alone, pvid and untagged (`attach --vlan VID`). */
  setAccess(port: number, vid: number): void {
    this.reset(port);
    this.add(port, vid, { pvid: true, untagged: true });
  }

  /** A trunk of `vids`, with `native` (also carried) as its untagged VLAN (`port add --trunk VIDS --native VID`). */
  setTrunk(port: number, vids: readonly number[], native?: number): void {
    for (const vid of vids) checkVid(vid);
    if (native !== undefined) checkVid(native);
    this.reset(port);
    this.words[port * PORT_WORDS + P_MODE] = VLAN_MODE_VLANS;
    for (const vid of vids) this.add(port, vid);
    if (native !== undefined) this.add(port, native, { pvid: true, untagged: true });
  }

  /** An 802.1ad tunnel port of VLAN `vid`. */
  setTunnel(port: number, vid: number): void {
    checkVid(vid);
    this.reset(port);
    this.words[port * PORT_WORDS + P_MODE] = VLAN_MODE_TUNNEL;
    this.words[port * PORT_WORDS + P_PVID] = vid;
  }

  /** Puts back settings that show() gave; refused whole, changing nothing, when a VLAN id is out of range. */
  set(port: number, vlans: PortVlans): void {
    if (vlans.mode === 'vlans') for (const v of vlans.vlans) checkVid(v.vid);
    if (vlans.mode === 'all') this.reset(port);
    else if (vlans.mode === 'tunnel') this.setTunnel(port, vlans.vid);
    else {
      this.setTrunk(port, []);
      for (const v of vlans.vlans) this.add(port, v.vid, v);
    }
  }

  show(port: number): PortVlans {
    const base = port * PORT_WORDS;
    const mode = this.words[base + P_MODE]!;
    if (mode === VLAN_MODE_ALL) return { mode: 'all' };
    if (mode === VLAN_MODE_TUNNEL) return { mode: 'tunnel', vid: this.words[base + P_PVID]! };
    const vlans: PortVlan[] = [];
    const pvid = this.words[base + P_PVID]!;
    for (let vid = VID_MIN; vid <= VID_MAX; vid++) {
      if (!this.carries(port, vid)) continue;
      vlans.push({ vid, pvid: vid === pvid, untagged: this.untaggedOut(port, vid) });
    }
    return { mode: 'vlans', vlans };
  }
}

export class VlanIdError extends RangeError {
  constructor(readonly vid: number) {
    super(`VLAN id ${vid} is out of range: VLAN ids are ${VID_MIN}-${VID_MAX} (0 and 4095 are reserved by 802.1Q)`);
    this.name = 'VlanIdError';
  }
}

/** Whether `vid` is a VLAN id a port may carry: 1-4094. */
export function isVid(vid: number): boolean {
  return Number.isInteger(vid) && vid >= VID_MIN && vid <= VID_MAX;
}

function checkVid(vid: number): void {
  if (!isVid(vid)) throw new VlanIdError(vid);
}
