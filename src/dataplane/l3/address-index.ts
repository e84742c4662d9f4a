// Which outside addresses each masquerade mapping has sent to, for address-dependent filtering
// (RFC 4787 REQ-8): a packet from outside to a mapping is let in when the mapping has a session
// with its source address, whatever the ports. Sessions are chained by (protocol, external port,
// outside address) in shared memory beside the conntrack table, changed and read only under its
// lock (the check runs only for packets that found no session, never on the forwarding path).

const NONE = -1;

export class AddressIndex {
  /** Per bucket: the first session of its chain. */
  private readonly buckets: Int32Array;
  /** Per session: the next session of its chain, its outside address, and protocol << 16 | external port (0: not chained). */
  private readonly next: Int32Array;
  private readonly remote: Int32Array;
  private readonly key: Int32Array;
  private readonly mask: number;

  static wordsFor(max: number, bucketCount: number): number {
    return bucketCount + 3 * max;
  }

  constructor(take: (words: number) => Int32Array, max: number, bucketCount: number) {
    this.buckets = take(bucketCount);
    this.next = take(max);
    this.remote = take(max);
    this.key = take(max);
    this.mask = bucketCount - 1;
  }

  /** Empties a new table's chains. */
  clear(): void {
    this.buckets.fill(NONE);
  }

  /** Session `id`, of the mapping (protocol, port) and sent to `remote`, joins its chain. */
  add(id: number, protocol: number, port: number, remote: number, seed: number): void {
    const key = (protocol << 16) | port;
    const b = this.bucket(key, remote, seed);
    this.remote[id] = remote;
    this.key[id] = key;
    this.next[id] = this.buckets[b]!;
    this.buckets[b] = id;
  }

  /** Session `id` leaves its chain, if it is on one. */
  remove(id: number, seed: number): void {
    const key = this.key[id]!;
    if (key === 0) return;
    this.key[id] = 0;
    const b = this.bucket(key, this.remote[id]!, seed);
    if (this.buckets[b] === id) {
      this.buckets[b] = this.next[id]!;
      return;
    }
    for (let at = this.buckets[b]!; at !== NONE; at = this.next[at]!) {
      if (this.next[at] === id) {
        this.next[at] = this.next[id]!;
        return;
      }
    }
  }

  /** Whether a session that is `alive` has sent from the mapping (protocol, port) to `remote`. */
  has(protocol: number, port: number, remote: number, seed: number, alive: (id: number) => boolean): boolean {
    const key = (protocol << 16) | port;
    for (let at = this.buckets[this.bucket(key, remote, seed)]!; at !== NONE; at = this.next[at]!) {
      if (this.key[at] === key && this.remote[at] === remote && alive(at)) return true;
    }
    return false;
  }

  private bucket(key: number, remote: number, seed: number): number {
    let h = Math.imul(remote ^ seed, 0x85ebca6b) ^ Math.imul(key, 0xcc9e2d51);
    h ^= h >>> 15;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 16)) & this.mask;
  }
}
