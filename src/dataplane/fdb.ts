// The MAC table (forwarding database), in shared memory so that every worker learns into and looks
// up the same table, and the main thread reads it without asking them.
//
// Layout: a bucket array of chain heads, and a fixed pool of entry nodes. Each node sits on its
// bucket's chain and on its port's LRU list (oldest first), which makes ageing and the OVS eviction
// rule (the oldest entry of the port with the most entries) O(1) per entry. Writers take one
// spinlock; readers take none and check each node's version (odd while it is being written),
// treating a torn read as a miss, which floods the frame once: the safe answer.

export const FDB_DEFAULT_SIZE = 8192;
export const FDB_DEFAULT_AGEING_S = 300;
export const MAX_PORTS = 1024;

/** Time in the table is kept in tenths of a second. */
const TICKS_PER_SECOND = 10;
/** A known MAC's timestamp (and LRU place) is refreshed at most once a second. */
const REFRESH_TICKS = TICKS_PER_SECOND;

const NODE_WORDS = 8;
const N_VERSION = 0;
const N_MAC_HI = 1; // bytes 0..3
const N_MAC_LO = 2; // bytes 4..5
const N_PORT = 3; // port | flags
const N_SEEN = 4; // ticks
const N_CHAIN = 5;
const N_PREV = 6;
const N_NEXT = 7;

const F_USED = 1 << 16;
const F_STATIC = 1 << 17;
const PORT_MASK = 0xffff;

// Header words.
const H_LOCK = 0;
const H_USED = 1;
const H_FREE_TOP = 2;
const H_AGEING_TICKS = 3;
const H_LEARNED = 4;
const H_MOVES = 5;
const H_EVICTIONS = 6;
const H_AGED = 7;
const H_FULL = 8;
const H_STATIC_CONFLICTS = 9;
const HEADER_WORDS = 16;

const NONE = -1;

export interface FdbOptions {
  /** Most entries the table holds (default 8192). */
  size?: number;
  /** Seconds an unrefreshed learned entry lives; 0: never ages (default 300). */
  ageingSeconds?: number;
}

export interface FdbEntry {
  mac: string;
  port: number;
  static: boolean;
  /** Seconds since the entry was last seen (0 for static entries). */
  ageSeconds: number;
}

export interface FdbCounters {
  entries: number;
  learned: number;
  moves: number;
  evictions: number;
  aged: number;
  /** Sources not learned because every entry was static. */
  full: number;
  /** Frames whose source is a static entry of another port (not moved). */
  staticConflicts: number;
}

export type LearnResult = 'known' | 'learned' | 'moved' | 'static' | 'full';

/** What the table needs to be recreated in another thread. */
export interface FdbShared {
  buffer: SharedArrayBuffer;
  size: number;
  epochMs: number;
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function macHi(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function macLo(b: Uint8Array, o: number): number {
  return (b[o + 4]! << 8) | b[o + 5]!;
}

function hash(hi: number, lo: number): number {
  let h = Math.imul(hi ^ Math.imul(lo, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function formatMacWords(hi: number, lo: number): string {
  const bytes = [hi >>> 24, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff, lo >>> 8, lo & 0xff];
  return bytes.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function parseMacWords(text: string): [number, number] {
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new TypeError(`"${text}" is not a MAC address like 02:42:0a:00:00:02`);
  }
  const b = parts.map((p) => parseInt(p, 16));
  return [((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0, (b[4]! << 8) | b[5]!];
}

export class Fdb {
  readonly size: number;
  private readonly header: Int32Array;
  private readonly buckets: Int32Array;
  private readonly nodes: Int32Array;
  private readonly free: Int32Array;
  private readonly portHead: Int32Array;
  private readonly portTail: Int32Array;
  private readonly portCount: Int32Array;
  private readonly mask: number;

  private constructor(
    readonly shared: FdbShared,
    private readonly clock: () => number,
  ) {
    const { buffer, size } = shared;
    this.size = size;
    const bucketCount = nextPow2(size);
    this.mask = bucketCount - 1;
    let offset = 0;
    const take = (words: number): Int32Array => {
      const view = new Int32Array(buffer, offset, words);
      offset += words * 4;
      return view;
    };
    this.header = take(HEADER_WORDS);
    this.buckets = take(bucketCount);
    this.nodes = take(size * NODE_WORDS);
    this.free = take(size);
    this.portHead = take(MAX_PORTS);
    this.portTail = take(MAX_PORTS);
    this.portCount = take(MAX_PORTS);
  }

  static bytesFor(size: number): number {
    return (HEADER_WORDS + nextPow2(size) + size * NODE_WORDS + size + 3 * MAX_PORTS) * 4;
  }

  static create(options: FdbOptions = {}, clock: () => number = () => performance.timeOrigin + performance.now()): Fdb {
    const size = options.size ?? FDB_DEFAULT_SIZE;
    const ageing = options.ageingSeconds ?? FDB_DEFAULT_AGEING_S;
    if (!Number.isInteger(size) || size < 1 || size > 1 << 24) throw new RangeError(`FDB size ${size} is not in 1..16777216`);
    if (!(ageing >= 0) || ageing > 1e6) throw new RangeError(`ageing ${ageing} s is not in 0..1000000`);
    const shared = { buffer: new SharedArrayBuffer(Fdb.bytesFor(size)), size, epochMs: clock() };
    const fdb = new Fdb(shared, clock);
    fdb.buckets.fill(NONE);
    fdb.portHead.fill(NONE);
    fdb.portTail.fill(NONE);
    for (let i = 0; i < size; i++) fdb.free[i] = size - 1 - i;
    fdb.header[H_FREE_TOP] = size;
    fdb.header[H_AGEING_TICKS] = Math.round(ageing * TICKS_PER_SECOND);
    return fdb;
  }

  /** The same table in another thread. */
  static adopt(shared: FdbShared, clock: () => number = () => performance.timeOrigin + performance.now()): Fdb {
    return new Fdb(shared, clock);
  }

  /** Now, in table ticks. */
  now(): number {
    return Math.floor(((this.clock() - this.shared.epochMs) * TICKS_PER_SECOND) / 1000);
  }

  get ageingSeconds(): number {
    return this.header[H_AGEING_TICKS]! / TICKS_PER_SECOND;
  }

  set ageingSeconds(seconds: number) {
    if (!(seconds >= 0) || seconds > 1e6) throw new RangeError(`ageing ${seconds} s is not in 0..1000000`);
    Atomics.store(this.header, H_AGEING_TICKS, Math.round(seconds * TICKS_PER_SECOND));
  }

  // ---- lookups, lock-free ----

  /** The node holding the MAC at bytes[offset..offset+6), or -1. */
  findNode(bytes: Uint8Array, offset: number): number {
    return this.find(macHi(bytes, offset), macLo(bytes, offset));
  }

  /** The port of the MAC at bytes[offset..offset+6), or -1 when unknown. */
  lookup(bytes: Uint8Array, offset: number): number {
    const node = this.find(macHi(bytes, offset), macLo(bytes, offset));
    return node === NONE ? NONE : this.nodes[node * NODE_WORDS + N_PORT]! & PORT_MASK;
  }

  private find(hi: number, lo: number): number {
    const nodes = this.nodes;
    for (let attempt = 0; attempt < 4; attempt++) {
      let i = Atomics.load(this.buckets, hash(hi, lo) & this.mask);
      let steps = 0;
      let torn = false;
      while (i !== NONE && steps++ <= this.size) {
        const base = i * NODE_WORDS;
        const v1 = Atomics.load(nodes, base + N_VERSION);
        const h = nodes[base + N_MAC_HI]! >>> 0;
        const l = nodes[base + N_MAC_LO]!;
        const next = nodes[base + N_CHAIN]!;
        if ((v1 & 1) !== 0 || Atomics.load(nodes, base + N_VERSION) !== v1) {
          torn = true;
          break;
        }
        if (h === hi && l === lo) return i;
        i = next;
      }
      if (!torn) return NONE;
    }
    return NONE;
  }

  // ---- learning, from the forwarding path ----

  /**
   * Learns that the source MAC at bytes[offset..offset+6) sits on `port`. The caller has already
   * refused multicast and all-zero sources. Takes the lock only to add, move or re-age an entry.
   * `now` (from now()) lets a batch read the clock once rather than per frame.
   */
  learn(bytes: Uint8Array, offset: number, port: number, now = this.now()): LearnResult {
    const hi = macHi(bytes, offset);
    const lo = macLo(bytes, offset);
    const node = this.find(hi, lo);
    if (node !== NONE) {
      const base = node * NODE_WORDS;
      const word = this.nodes[base + N_PORT]!;
      if ((word & PORT_MASK) === port) {
        if ((word & F_STATIC) === 0 && now - this.nodes[base + N_SEEN]! >= REFRESH_TICKS) {
          this.lock();
          try {
            this.refresh(node, hi, lo, port, now);
          } finally {
            this.unlock();
          }
        }
        return 'known';
      }
      if ((word & F_STATIC) !== 0) {
        Atomics.add(this.header, H_STATIC_CONFLICTS, 1);
        return 'static';
      }
    }
    this.lock();
    try {
      return this.upsert(hi, lo, port, false, now);
    } finally {
      this.unlock();
    }
  }

  // ---- management, from the main thread ----

  /** Adds or replaces a static entry: it never ages and learning never moves it. */
  addStatic(mac: string, port: number): void {
    checkPort(port);
    const [hi, lo] = parseMacWords(mac);
    let result: LearnResult;
    this.lock();
    try {
      result = this.upsert(hi, lo, port, true, this.now());
    } finally {
      this.unlock();
    }
    if (result === 'full') {
      throw new RangeError(`FDB is full of static entries (${this.size}); remove some or raise the size`);
    }
  }

  /** Removes the entry for `mac`; returns whether there was one. */
  remove(mac: string): boolean {
    const [hi, lo] = parseMacWords(mac);
    return this.locked(() => {
      const node = this.find(hi, lo);
      if (node === NONE) return false;
      this.unlink(node);
      return true;
    });
  }

  /** Removes every entry of a port (static ones too when `includeStatic`); returns how many. */
  flushPort(port: number, includeStatic = true): number {
    checkPort(port);
    return this.locked(() => {
      let removed = 0;
      let i = this.portHead[port]!;
      while (i !== NONE) {
        const next = this.nodes[i * NODE_WORDS + N_NEXT]!;
        if (includeStatic || (this.nodes[i * NODE_WORDS + N_PORT]! & F_STATIC) === 0) {
          this.unlink(i);
          removed++;
        }
        i = next;
      }
      return removed;
    });
  }

  /** Removes every learned entry (static ones stay), like `bridge fdb flush dynamic`. */
  flushDynamic(): number {
    let removed = 0;
    for (let port = 0; port < MAX_PORTS; port++) if (this.portCount[port]! > 0) removed += this.flushPort(port, false);
    return removed;
  }

  /** Removes learned entries not seen for longer than the ageing time; returns how many. */
  age(): number {
    const limit = this.header[H_AGEING_TICKS]!;
    if (limit === 0) return 0;
    const now = this.now();
    return this.locked(() => {
      let aged = 0;
      for (let port = 0; port < MAX_PORTS; port++) {
        // Lists run oldest first, and static entries never age, so stop at the first young one.
        let i = this.portHead[port]!;
        while (i !== NONE) {
          const base = i * NODE_WORDS;
          const next = this.nodes[base + N_NEXT]!;
          if ((this.nodes[base + N_PORT]! & F_STATIC) === 0) {
            if (now - this.nodes[base + N_SEEN]! <= limit) break;
            this.unlink(i);
            aged++;
          }
          i = next;
        }
      }
      this.header[H_AGED]! += aged;
      return aged;
    });
  }

  entries(): FdbEntry[] {
    return this.locked(() => this.collectEntries());
  }

  private collectEntries(): FdbEntry[] {
    const now = this.now();
    const out: FdbEntry[] = [];
    for (let port = 0; port < MAX_PORTS; port++) {
      for (let i = this.portHead[port]!; i !== NONE; i = this.nodes[i * NODE_WORDS + N_NEXT]!) {
        const base = i * NODE_WORDS;
        const isStatic = (this.nodes[base + N_PORT]! & F_STATIC) !== 0;
        out.push({
          mac: formatMacWords(this.nodes[base + N_MAC_HI]! >>> 0, this.nodes[base + N_MAC_LO]!),
          port,
          static: isStatic,
          ageSeconds: isStatic ? 0 : Math.max(0, now - this.nodes[base + N_SEEN]!) / TICKS_PER_SECOND,
        });
      }
    }
    return out;
  }

  portEntries(port: number): number {
    return this.portCount[port] ?? 0;
  }

  counters(): FdbCounters {
    const h = this.header;
    return {
      entries: h[H_USED]!,
      learned: h[H_LEARNED]!,
      moves: h[H_MOVES]!,
      evictions: h[H_EVICTIONS]!,
      aged: h[H_AGED]!,
      full: h[H_FULL]!,
      staticConflicts: h[H_STATIC_CONFLICTS]!,
    };
  }

  // ---- under the lock ----

  private lock(): void {
    while (Atomics.compareExchange(this.header, H_LOCK, 0, 1) !== 0) {
      // Critical sections are a few hundred instructions; spin rather than sleep.
    }
  }

  private unlock(): void {
    Atomics.store(this.header, H_LOCK, 0);
  }

  /** Management calls from the main thread; the forwarding path uses lock()/unlock() to avoid closures. */
  private locked<T>(body: () => T): T {
    this.lock();
    try {
      return body();
    } finally {
      this.unlock();
    }
  }

  private upsert(hi: number, lo: number, port: number, isStatic: boolean, now: number): LearnResult {
    const existing = this.find(hi, lo);
    if (existing !== NONE) {
      const base = existing * NODE_WORDS;
      const word = this.nodes[base + N_PORT]!;
      // Re-checked under the lock: another worker may have changed it since the lock-free look.
      if (!isStatic && (word & F_STATIC) !== 0) return 'static';
      const samePort = (word & PORT_MASK) === port;
      this.listRemove(existing, word & PORT_MASK);
      this.beginWrite(base);
      this.nodes[base + N_PORT] = port | F_USED | (isStatic ? F_STATIC : 0);
      this.nodes[base + N_SEEN] = now;
      this.endWrite(base);
      this.listAppend(existing, port);
      if (samePort) return 'known';
      this.header[H_MOVES]! += 1;
      return 'moved';
    }
    if (this.header[H_FREE_TOP] === 0 && !this.evict()) {
      this.header[H_FULL]! += 1;
      return 'full';
    }
    const node = this.free[--this.header[H_FREE_TOP]!]!;
    const base = node * NODE_WORDS;
    const bucket = hash(hi, lo) & this.mask;
    this.beginWrite(base);
    this.nodes[base + N_MAC_HI] = hi | 0;
    this.nodes[base + N_MAC_LO] = lo;
    this.nodes[base + N_PORT] = port | F_USED | (isStatic ? F_STATIC : 0);
    this.nodes[base + N_SEEN] = now;
    this.nodes[base + N_CHAIN] = this.buckets[bucket]!;
    this.endWrite(base);
    Atomics.store(this.buckets, bucket, node);
    this.listAppend(node, port);
    this.header[H_USED]! += 1;
    if (!isStatic) this.header[H_LEARNED]! += 1;
    return 'learned';
  }

  private refresh(node: number, hi: number, lo: number, port: number, now: number): void {
    const base = node * NODE_WORDS;
    // The node may have been removed or reused since the lock-free look.
    if (this.nodes[base + N_MAC_HI]! >>> 0 !== hi || this.nodes[base + N_MAC_LO] !== lo) return;
    if ((this.nodes[base + N_PORT]! & (PORT_MASK | F_USED)) !== (port | F_USED)) return;
    this.listRemove(node, port);
    this.nodes[base + N_SEEN] = now;
    this.listAppend(node, port);
  }

  /** The OVS rule: drop the oldest learned entry of the port that holds the most entries. */
  private evict(): boolean {
    let victimPort = NONE;
    for (let port = 0; port < MAX_PORTS; port++) {
      if (this.portCount[port]! > 0 && (victimPort === NONE || this.portCount[port]! > this.portCount[victimPort]!)) {
        if (this.oldestLearned(port) !== NONE) victimPort = port;
      }
    }
    if (victimPort === NONE) return false;
    this.unlink(this.oldestLearned(victimPort));
    this.header[H_EVICTIONS]! += 1;
    return true;
  }

  private oldestLearned(port: number): number {
    let i = this.portHead[port]!;
    while (i !== NONE && (this.nodes[i * NODE_WORDS + N_PORT]! & F_STATIC) !== 0) i = this.nodes[i * NODE_WORDS + N_NEXT]!;
    return i;
  }

  private unlink(node: number): void {
    const base = node * NODE_WORDS;
    const hi = this.nodes[base + N_MAC_HI]! >>> 0;
    const lo = this.nodes[base + N_MAC_LO]!;
    const bucket = hash(hi, lo) & this.mask;
    const next = this.nodes[base + N_CHAIN]!;
    let i = this.buckets[bucket]!;
    if (i === node) {
      Atomics.store(this.buckets, bucket, next);
    } else {
      while (i !== NONE) {
        const ib = i * NODE_WORDS;
        if (this.nodes[ib + N_CHAIN] === node) {
          this.beginWrite(ib);
          this.nodes[ib + N_CHAIN] = next;
          this.endWrite(ib);
          break;
        }
        i = this.nodes[ib + N_CHAIN]!;
      }
    }
    this.listRemove(node, this.nodes[base + N_PORT]! & PORT_MASK);
    // A reader still on this node sees the version move and retries.
    this.beginWrite(base);
    this.nodes[base + N_PORT] = 0;
    this.nodes[base + N_MAC_HI] = 0;
    this.nodes[base + N_MAC_LO] = 0;
    this.endWrite(base);
    this.free[this.header[H_FREE_TOP]!++] = node;
    this.header[H_USED]! -= 1;
  }

  private beginWrite(base: number): void {
    Atomics.add(this.nodes, base + N_VERSION, 1);
  }

  private endWrite(base: number): void {
    Atomics.add(this.nodes, base + N_VERSION, 1);
  }

  private listAppend(node: number, port: number): void {
    const base = node * NODE_WORDS;
    const tail = this.portTail[port]!;
    this.nodes[base + N_PREV] = tail;
    this.nodes[base + N_NEXT] = NONE;
    if (tail === NONE) this.portHead[port] = node;
    else this.nodes[tail * NODE_WORDS + N_NEXT] = node;
    this.portTail[port] = node;
    this.portCount[port]! += 1;
  }

  private listRemove(node: number, port: number): void {
    const base = node * NODE_WORDS;
    const prev = this.nodes[base + N_PREV]!;
    const next = this.nodes[base + N_NEXT]!;
    if (prev === NONE) this.portHead[port] = next;
    else this.nodes[prev * NODE_WORDS + N_NEXT] = next;
    if (next === NONE) this.portTail[port] = prev;
    else this.nodes[next * NODE_WORDS + N_PREV] = prev;
    this.portCount[port]! -= 1;
  }
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port >= MAX_PORTS) throw new RangeError(`port ${port} is not in 0..${MAX_PORTS - 1}`);
}
