// The MAC table (forwarding database), in shared memory so that every worker learns into and looks
// up the same table, and the main thread reads it without asking them.
//
// Layout: an open-addressed table (linear probing, at most half full) whose slots hold the entries
// themselves, so a lookup usually costs one cache miss; deletion shifts later entries back instead
// of leaving tombstones. Each entry also sits on its port's LRU list (oldest first), which makes
// ageing and the OVS eviction rule (the oldest entry of the port with the most entries) O(1) per
// entry. An entry's key is its MAC and its VLAN, as in the kernel's bridge: the same MAC may sit
// on one port in one VLAN and on another port in another. Writers take one spinlock; readers take none and check each slot's version (odd while it
// is being written), treating a torn read as a miss, which floods the frame once: the safe answer.
// A port may have a limit on its learned entries (fdb_max_learned, per port); static and sticky
// entries, which the user adds, do not count against it, and learning moves neither.

import { nextPowerOfTwo } from '../core/power-of-two.js';
import { formatMacWords, macHiAt, macLoAt, parseMacWords } from '../../packet/mac.js';
import { TICKS_PER_SECOND, monotonicMs, ticksSince } from '../shm/clock.js';
import { SpinLock } from '../shm/spinlock.js';
import { viewCarver } from '../shm/carve.js';
import { beginWrite, endWrite } from '../shm/seqlock.js';
import { staysAfterHole } from '../shm/probing.js';
import { MAX_PORTS } from '../core/port-table.js';
import { VID_MAX } from './vlan-table.js';

export const FDB_DEFAULT_SIZE = 8192;
export const FDB_DEFAULT_AGEING_S = 300;
/** Added by lookupEntry() to the port of an entry learning never moves: a static or a sticky one. */
export const FDB_STATIC = 1 << 16;

/** A known MAC's timestamp (and LRU place) is refreshed at most once a second. */
const REFRESH_TICKS = TICKS_PER_SECOND;

const SLOT_WORDS = 7;
const S_VERSION = 0;
const S_MAC_HI = 1; // MAC bytes 0..3
const S_KEY = 2; // MAC bytes 4..5 | port << 16 | flags
const S_SEEN = 3; // ticks
const S_PREV = 4; // LRU neighbours on the port's list
const S_NEXT = 5;
const S_VLAN = 6; // 0 (the untagged domain of ports in mode all) or 1..4094

const LO_MASK = 0xffff;
const PORT_SHIFT = 16;
const PORT_BITS = 0x3ff; // MAX_PORTS - 1
const K_USED = 1 << 26;
const K_STATIC = 1 << 27;
/** Added by the user like a static entry, but ages like a learned one; learning never moves it. */
const K_STICKY = 1 << 28;
/** Entries learning never moves, and which do not count against a port's learn limit. */
const K_PINNED = K_STATIC | K_STICKY;

// Header words.
const H_LOCK = 0;
const H_USED = 1;
const H_AGEING_TICKS = 3;
const H_LEARNED = 4;
const H_MOVES = 5;
const H_EVICTIONS = 6;
const H_AGED = 7;
const H_FULL = 8;
const H_STATIC_CONFLICTS = 9;
const HEADER_WORDS = 16;

const NONE = -1;
/** Words per entry that entries() copies under the lock. */
const RAW_WORDS = 5;
/** Entries an ageing sweep removes per hold of the lock. */
const AGE_SLICE = 256;

export interface FdbOptions {
  /** Most entries the table holds (default 8192). */
  size?: number;
  /** Seconds an unrefreshed learned entry lives; 0: never ages (default 300). */
  ageingSeconds?: number;
}

export interface FdbEntry {
  mac: string;
  /** The VLAN it was learned or added in; 0 is the untagged domain of ports in mode all. */
  vlan: number;
  port: number;
  static: boolean;
  /** Added by the user, never moved by learning, but aged like a learned entry. */
  sticky: boolean;
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

/** 'limited': the port holds its maxLearned learned entries already (setMaxLearned). */
export type LearnResult = 'known' | 'learned' | 'moved' | 'static' | 'full' | 'limited';

/** What the table needs to be recreated in another thread. */
export interface FdbShared {
  buffer: SharedArrayBuffer;
  size: number;
  epochMs: number;
}

/** The home slot's hash of (MAC, VLAN): `lo` holds MAC bytes 4..5, the VLAN goes above them. */
function hash(hi: number, lo: number, vlan: number): number {
  let h = Math.imul(hi ^ Math.imul(lo | (vlan << 16), 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class Fdb {
  readonly size: number;
  private readonly header: Int32Array;
  private readonly spin: SpinLock;
  private readonly table: Int32Array;
  private readonly portHead: Int32Array;
  private readonly portTail: Int32Array;
  private readonly portCount: Int32Array;
  /** Per port: its learned entries (neither static nor sticky), the most it may learn (0: no limit), the sources refused for that. */
  private readonly portLearned: Int32Array;
  private readonly portMaxLearned: Int32Array;
  private readonly portLimited: Int32Array;
  private readonly mask: number;
  /** The key word of the slot find() last matched, read inside its version check. */
  private foundKey = 0;

  private constructor(
    readonly shared: FdbShared,
    private readonly clock: () => number,
  ) {
    const { buffer, size } = shared;
    this.size = size;
    const slots = Fdb.slotsFor(size);
    this.mask = slots - 1;
    const take = viewCarver(buffer);
    this.header = take(HEADER_WORDS);
    this.spin = new SpinLock(this.header, H_LOCK);
    this.table = take(slots * SLOT_WORDS);
    this.portHead = take(MAX_PORTS);
    this.portTail = take(MAX_PORTS);
    this.portCount = take(MAX_PORTS);
    this.portLearned = take(MAX_PORTS);
    this.portMaxLearned = take(MAX_PORTS);
    this.portLimited = take(MAX_PORTS);
  }

  /** At most half the slots are used, which keeps probe runs short. */
  private static slotsFor(size: number): number {
    return nextPowerOfTwo(2 * size);
  }

  static bytesFor(size: number): number {
    return (HEADER_WORDS + Fdb.slotsFor(size) * SLOT_WORDS + 6 * MAX_PORTS) * 4;
  }

  static create(options: FdbOptions = {}, clock: () => number = monotonicMs): Fdb {
    const size = options.size ?? FDB_DEFAULT_SIZE;
    const ageing = options.ageingSeconds ?? FDB_DEFAULT_AGEING_S;
    if (!Number.isInteger(size) || size < 1 || size > 1 << 24) throw new RangeError(`FDB size must be a whole number from 1 to 16777216 entries, got ${size}`);
    const shared = { buffer: new SharedArrayBuffer(Fdb.bytesFor(size)), size, epochMs: clock() };
    const fdb = new Fdb(shared, clock);
    fdb.portHead.fill(NONE);
    fdb.portTail.fill(NONE);
    fdb.ageingSeconds = ageing;
    return fdb;
  }

  /** The same table in another thread. */
  static adopt(shared: FdbShared, clock: () => number = monotonicMs): Fdb {
    return new Fdb(shared, clock);
  }

  /** Now, in table ticks. */
  now(): number {
    return ticksSince(this.shared.epochMs, this.clock);
  }

  get ageingSeconds(): number {
    return this.header[H_AGEING_TICKS]! / TICKS_PER_SECOND;
  }

  set ageingSeconds(seconds: number) {
    if (!(seconds >= 0) || seconds > 1e6) throw new RangeError(`ageing must be from 0 to 1000000 seconds, got ${seconds}`);
    // Any ageing above zero keeps at least one tick, so a tiny value never turns ageing off.
    const ticks = seconds === 0 ? 0 : Math.max(1, Math.round(seconds * TICKS_PER_SECOND));
    Atomics.store(this.header, H_AGEING_TICKS, ticks);
  }

  // ---- lookups, lock-free ----

  /** The port of the MAC at bytes[offset..offset+6) in `vlan`, or -1 when unknown. */
  lookup(bytes: Uint8Array, offset: number, vlan = 0): number {
    return this.lookupWords(macHiAt(bytes, offset) >>> 0, macLoAt(bytes, offset), vlan);
  }

  /** The port of the MAC whose bytes 0..3 are `hi` (unsigned) and 4..5 `lo`, in `vlan`, or -1 when unknown. */
  lookupWords(hi: number, lo: number, vlan: number): number {
    return this.find(hi, lo, vlan) === NONE ? NONE : (this.foundKey >>> PORT_SHIFT) & PORT_BITS;
  }

  /** Like lookup(), with FDB_STATIC added to the port of a static entry; for trace, off the forwarding path. */
  lookupEntry(bytes: Uint8Array, offset: number, vlan = 0): number {
    if (this.find(macHiAt(bytes, offset) >>> 0, macLoAt(bytes, offset), vlan) === NONE) return NONE;
    return ((this.foundKey >>> PORT_SHIFT) & PORT_BITS) | ((this.foundKey & K_PINNED) !== 0 ? FDB_STATIC : 0);
  }

  /** The slot holding the MAC in `vlan`, or -1; its key word is left in foundKey. */
  private find(hi: number, lo: number, vlan: number): number {
    const t = this.table;
    const mask = this.mask;
    for (let attempt = 0; attempt < 4; attempt++) {
      let i = hash(hi, lo, vlan) & mask;
      let torn = false;
      for (let probes = 0; probes <= mask; probes++) {
        const base = i * SLOT_WORDS;
        // The seqlock read of shm/seqlock.ts, written out: this is the per-frame path, and V8 does
        // not always inline the helpers into it.
        const v = Atomics.load(t, base + S_VERSION);
        const h = t[base + S_MAC_HI]! >>> 0;
        const key = t[base + S_KEY]!;
        const entryVlan = t[base + S_VLAN]!;
        if ((v & 1) !== 0 || Atomics.load(t, base + S_VERSION) !== v) {
          torn = true;
          break;
        }
        if ((key & K_USED) === 0) return NONE;
        if (h === hi && (key & LO_MASK) === lo && entryVlan === vlan) {
          this.foundKey = key;
          return i;
        }
        i = (i + 1) & mask;
      }
      if (!torn) return NONE;
    }
    return NONE;
  }

  // ---- learning, from the forwarding path ----

  /**
   * Learns that the source MAC at bytes[offset..offset+6) sits on `port` (0..MAX_PORTS-1; the
   * engine only runs valid ports). The caller has already refused multicast and all-zero sources.
   * Takes the lock only to add, move or re-age an entry. `now` (from now()) lets a batch read the
   * clock once rather than per frame.
   */
  learn(bytes: Uint8Array, offset: number, port: number, now = this.now(), vlan = 0): LearnResult {
    return this.learnWords(macHiAt(bytes, offset) >>> 0, macLoAt(bytes, offset), port, now, vlan);
  }

  /** learn() for the MAC whose bytes 0..3 are `hi` (unsigned) and 4..5 `lo`, in `vlan`. */
  learnWords(hi: number, lo: number, port: number, now: number, vlan: number): LearnResult {
    const slot = this.find(hi, lo, vlan);
    if (slot !== NONE) {
      const key = this.foundKey;
      if (((key >>> PORT_SHIFT) & PORT_BITS) === port) {
        if ((key & K_STATIC) === 0 && now - this.table[slot * SLOT_WORDS + S_SEEN]! >= REFRESH_TICKS) {
          this.lock();
          try {
            this.refresh(hi, lo, vlan, port, now);
          } finally {
            this.unlock();
          }
        }
        return 'known';
      }
      if ((key & K_PINNED) !== 0) {
        Atomics.add(this.header, H_STATIC_CONFLICTS, 1);
        return 'static';
      }
    }
    if (this.atLimit(port)) return 'limited';
    this.lock();
    try {
      return this.upsert(hi, lo, vlan, port, 0, now);
    } finally {
      this.unlock();
    }
  }

  // ---- management, from the main thread ----

  /** Adds or replaces a static entry in `vlan`: it never ages and learning never moves it. */
  addStatic(mac: string, port: number, vlan = 0): void {
    this.addPinned(mac, port, vlan, K_STATIC);
  }

  /** Adds or replaces a sticky entry in `vlan`, like `bridge fdb add ... sticky`: it ages, but learning never moves it. */
  addSticky(mac: string, port: number, vlan = 0): void {
    this.addPinned(mac, port, vlan, K_STICKY);
  }

  private addPinned(mac: string, port: number, vlan: number, pin: number): void {
    checkPort(port);
    checkVlan(vlan);
    const [hi, lo] = parseMacWords(mac);
    if (this.locked(() => this.upsert(hi, lo, vlan, port, pin, this.now())) === 'full') {
      throw new RangeError(`FDB is full of static entries (${this.size}); remove some or raise the size`);
    }
  }

  /** The most entries port `port` may learn (static and sticky ones aside), like fdb_max_learned; 0: no limit. */
  setMaxLearned(port: number, max: number): void {
    checkPort(port);
    Atomics.store(this.portMaxLearned, port, checkMaxLearned(max, this.size));
  }

  maxLearned(port: number): number {
    return Atomics.load(this.portMaxLearned, port);
  }

  /** Whether the port holds as many learned entries as its limit, so learns no new source. */
  atMaxLearned(port: number): boolean {
    const max = Atomics.load(this.portMaxLearned, port);
    return max !== 0 && Atomics.load(this.portLearned, port) >= max;
  }

  /** Sources the port did not learn because it held maxLearned learned entries. */
  learnLimited(port: number): number {
    return Atomics.load(this.portLimited, port);
  }

  /** Forgets a removed port's limit and its count of refusals, so a port that reuses its id starts afresh. */
  resetPort(port: number): void {
    checkPort(port);
    Atomics.store(this.portMaxLearned, port, 0);
    Atomics.store(this.portLimited, port, 0);
  }

  /** Whether the port may learn no more; counts the refusal when so. Read without the lock, then again under it. */
  private atLimit(port: number): boolean {
    if (!this.atMaxLearned(port)) return false;
    Atomics.add(this.portLimited, port, 1);
    return true;
  }

  /** Removes the entry for `mac` in `vlan`; returns whether there was one. */
  remove(mac: string, vlan = 0): boolean {
    checkVlan(vlan);
    const [hi, lo] = parseMacWords(mac);
    return this.locked(() => {
      const slot = this.find(hi, lo, vlan);
      if (slot === NONE) return false;
      this.delete(slot);
      return true;
    });
  }

  /** Removes every entry of a port (static ones too when `includeStatic`); returns how many. */
  flushPort(port: number, includeStatic = true): number {
    checkPort(port);
    return this.locked(() => {
      let removed = 0;
      // Deleting shifts later slots back and may move the next entry, so take the head afresh each time.
      for (let i = this.nextToFlush(port, includeStatic); i !== NONE; i = this.nextToFlush(port, includeStatic)) {
        this.delete(i);
        removed++;
      }
      return removed;
    });
  }

  private nextToFlush(port: number, includeStatic: boolean): number {
    return includeStatic ? this.portHead[port]! : this.firstLearned(port);
  }

  /** Removes every learned entry (static ones stay), like `bridge fdb flush dynamic`. */
  flushDynamic(): number {
    let removed = 0;
    for (let port = 0; port < MAX_PORTS; port++) if (this.portCount[port]! > 0) removed += this.flushPort(port, false);
    return removed;
  }

  /**
   * Removes learned entries not seen for longer than the ageing time; returns how many. The lock
   * is held for one port at a time and at most AGE_SLICE entries, so learners wait little.
   */
  age(): number {
    const limit = Atomics.load(this.header, H_AGEING_TICKS);
    if (limit === 0) return 0;
    const now = this.now();
    let aged = 0;
    for (let port = 0; port < MAX_PORTS; port++) {
      if (Atomics.load(this.portCount, port) === 0) continue;
      for (;;) {
        this.lock();
        let n = 0;
        try {
          n = this.ageSlice(port, now, limit);
          this.header[H_AGED]! += n;
        } finally {
          this.unlock();
        }
        aged += n;
        if (n < AGE_SLICE) break;
      }
    }
    return aged;
  }

  /** Under the lock: removes up to AGE_SLICE of a port's entries older than `limit`; returns how many. */
  private ageSlice(port: number, now: number, limit: number): number {
    let n = 0;
    // Lists run oldest first and static entries never age, so stop at the first young learned one.
    for (let i = this.firstLearned(port); i !== NONE && n < AGE_SLICE; i = this.firstLearned(port)) {
      if (now - this.table[i * SLOT_WORDS + S_SEEN]! <= limit) break;
      this.delete(i);
      n++;
    }
    return n;
  }

  entries(): FdbEntry[] {
    // Copy the raw words under the lock and format after it, so workers never wait on strings.
    const raw = this.locked(() => this.collectRaw());
    const now = this.now();
    const out: FdbEntry[] = [];
    for (let r = 0; r < raw.length; r += RAW_WORDS) {
      const key = raw[r + 1]!;
      const isStatic = (key & K_STATIC) !== 0;
      out.push({
        mac: formatMacWords(raw[r]! >>> 0, key & LO_MASK),
        vlan: raw[r + 4]!,
        port: raw[r + 3]!,
        static: isStatic,
        sticky: (key & K_STICKY) !== 0,
        ageSeconds: isStatic ? 0 : Math.max(0, now - raw[r + 2]!) / TICKS_PER_SECOND,
      });
    }
    return out;
  }

  /** (macHi, key, seen, port, vlan) per entry, port by port, oldest first. */
  private collectRaw(): Int32Array {
    const raw = new Int32Array(this.header[H_USED]! * RAW_WORDS);
    let r = 0;
    for (let port = 0; port < MAX_PORTS; port++) {
      for (let i = this.portHead[port]!; i !== NONE; i = this.table[i * SLOT_WORDS + S_NEXT]!) {
        const base = i * SLOT_WORDS;
        raw[r++] = this.table[base + S_MAC_HI]!;
        raw[r++] = this.table[base + S_KEY]!;
        raw[r++] = this.table[base + S_SEEN]!;
        raw[r++] = port;
        raw[r++] = this.table[base + S_VLAN]!;
      }
    }
    return raw;
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
    this.spin.lock();
  }

  private unlock(): void {
    this.spin.unlock();
  }

  private locked<T>(body: () => T): T {
    return this.spin.run(body);
  }

  /** Adds or moves an entry in `vlan`: learned when `pin` is 0, else the user's static (K_STATIC) or sticky (K_STICKY) one. */
  private upsert(hi: number, lo: number, vlan: number, port: number, pin: number, now: number): LearnResult {
    const isStatic = pin !== 0;
    const flags = K_USED | pin;
    const existing = this.find(hi, lo, vlan);
    if (existing !== NONE) {
      const base = existing * SLOT_WORDS;
      const key = this.table[base + S_KEY]!;
      const oldPort = (key >>> PORT_SHIFT) & PORT_BITS;
      // Re-checked under the lock: another worker may have changed it since the lock-free look.
      if (!isStatic && (key & K_PINNED) !== 0) return oldPort === port ? 'known' : 'static';
      if (!isStatic && oldPort !== port && this.atLimit(port)) return 'limited';
      this.listRemove(existing, oldPort);
      this.beginWrite(base);
      this.table[base + S_KEY] = lo | (port << PORT_SHIFT) | flags;
      this.table[base + S_SEEN] = now;
      this.endWrite(base);
      this.listAppend(existing, port);
      if (oldPort === port) return 'known';
      this.header[H_MOVES]! += 1;
      return 'moved';
    }
    if (!isStatic && this.atLimit(port)) return 'limited';
    if (this.header[H_USED] === this.size && !this.evict()) {
      if (!isStatic) this.header[H_FULL]! += 1;
      return 'full';
    }
    let i = hash(hi, lo, vlan) & this.mask;
    while ((this.table[i * SLOT_WORDS + S_KEY]! & K_USED) !== 0) i = (i + 1) & this.mask;
    const base = i * SLOT_WORDS;
    this.beginWrite(base);
    this.table[base + S_MAC_HI] = hi | 0;
    this.table[base + S_VLAN] = vlan;
    this.table[base + S_KEY] = lo | (port << PORT_SHIFT) | flags;
    this.table[base + S_SEEN] = now;
    this.endWrite(base);
    this.listAppend(i, port);
    this.header[H_USED]! += 1;
    if (!isStatic) this.header[H_LEARNED]! += 1;
    return 'learned';
  }

  private refresh(hi: number, lo: number, vlan: number, port: number, now: number): void {
    // Found again under the lock: the entry may have moved, changed port or gone since the look.
    const slot = this.find(hi, lo, vlan);
    if (slot === NONE || (this.foundKey & K_STATIC) !== 0 || ((this.foundKey >>> PORT_SHIFT) & PORT_BITS) !== port) return;
    this.listRemove(slot, port);
    this.table[slot * SLOT_WORDS + S_SEEN] = now;
    this.listAppend(slot, port);
  }

  /** The OVS rule: drop the oldest learned entry of the port that holds the most entries. */
  private evict(): boolean {
    let victimPort = NONE;
    for (let port = 0; port < MAX_PORTS; port++) {
      if (this.portCount[port]! > 0 && (victimPort === NONE || this.portCount[port]! > this.portCount[victimPort]!)) {
        if (this.firstLearned(port) !== NONE) victimPort = port;
      }
    }
    if (victimPort === NONE) return false;
    this.delete(this.firstLearned(victimPort));
    this.header[H_EVICTIONS]! += 1;
    return true;
  }

  /** The oldest entry of a port that ages (learned or sticky, not static), or -1. */
  private firstLearned(port: number): number {
    let i = this.portHead[port]!;
    while (i !== NONE && (this.table[i * SLOT_WORDS + S_KEY]! & K_STATIC) !== 0) i = this.table[i * SLOT_WORDS + S_NEXT]!;
    return i;
  }

  /**
   * Empties a slot and shifts back the entries after it whose home lies at or before the hole, so
   * every entry stays reachable from its home without tombstones. Each entry is written to its new
   * slot before its old one changes, so a reader sees it at one place or the other, or retries.
   */
  private delete(slot: number): void {
    const t = this.table;
    const mask = this.mask;
    this.listRemove(slot, (t[slot * SLOT_WORDS + S_KEY]! >>> PORT_SHIFT) & PORT_BITS);
    let hole = slot;
    let j = slot;
    for (;;) {
      j = (j + 1) & mask;
      const jb = j * SLOT_WORDS;
      const key = t[jb + S_KEY]!;
      if ((key & K_USED) === 0) break;
      const home = hash(t[jb + S_MAC_HI]! >>> 0, key & LO_MASK, t[jb + S_VLAN]!) & mask;
      if (staysAfterHole(home, hole, j)) continue;
      this.moveSlot(j, hole);
      hole = j;
    }
    const hb = hole * SLOT_WORDS;
    this.beginWrite(hb);
    t[hb + S_KEY] = 0;
    t[hb + S_MAC_HI] = 0;
    t[hb + S_VLAN] = 0;
    this.endWrite(hb);
    this.header[H_USED]! -= 1;
  }

  /** Copies the entry at `from` into the empty slot `to` and relinks its LRU neighbours. */
  private moveSlot(from: number, to: number): void {
    const t = this.table;
    const fb = from * SLOT_WORDS;
    const tb = to * SLOT_WORDS;
    this.beginWrite(tb);
    for (let w = S_MAC_HI; w < SLOT_WORDS; w++) t[tb + w] = t[fb + w]!;
    this.endWrite(tb);
    const port = (t[tb + S_KEY]! >>> PORT_SHIFT) & PORT_BITS;
    const prev = t[tb + S_PREV]!;
    const next = t[tb + S_NEXT]!;
    if (prev === NONE) this.portHead[port] = to;
    else t[prev * SLOT_WORDS + S_NEXT] = to;
    if (next === NONE) this.portTail[port] = to;
    else t[next * SLOT_WORDS + S_PREV] = to;
  }

  private beginWrite(base: number): void {
    beginWrite(this.table, base + S_VERSION);
  }

  private endWrite(base: number): void {
    endWrite(this.table, base + S_VERSION);
  }

  private listAppend(slot: number, port: number): void {
    const base = slot * SLOT_WORDS;
    const tail = this.portTail[port]!;
    this.table[base + S_PREV] = tail;
    this.table[base + S_NEXT] = NONE;
    if (tail === NONE) this.portHead[port] = slot;
    else this.table[tail * SLOT_WORDS + S_NEXT] = slot;
    this.portTail[port] = slot;
    this.portCount[port]! += 1;
    if ((this.table[base + S_KEY]! & K_PINNED) === 0) Atomics.add(this.portLearned, port, 1);
  }

  private listRemove(slot: number, port: number): void {
    const base = slot * SLOT_WORDS;
    const prev = this.table[base + S_PREV]!;
    const next = this.table[base + S_NEXT]!;
    if (prev === NONE) this.portHead[port] = next;
    else this.table[prev * SLOT_WORDS + S_NEXT] = next;
    if (next === NONE) this.portTail[port] = prev;
    else this.table[next * SLOT_WORDS + S_PREV] = prev;
    this.portCount[port]! -= 1;
    if ((this.table[base + S_KEY]! & K_PINNED) === 0) Atomics.sub(this.portLearned, port, 1);
  }
}

function checkVlan(vlan: number): void {
  if (!Number.isInteger(vlan) || vlan < 0 || vlan > VID_MAX) throw new RangeError(`VLAN ${vlan} is not in 0..${VID_MAX} (0: the untagged domain of ports in mode all)`);
}

/** A learn limit a table of `size` entries can hold: 0 (no limit) up to its size. */
export function checkMaxLearned(max: number, size: number): number {
  if (!Number.isInteger(max) || max < 0 || max > size) throw new RangeError(`maxLearned must be a whole number from 0 (no limit) to the FDB size ${size}, got ${max}`);
  return max;
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port >= MAX_PORTS) throw new RangeError(`port ${port} is not in 0..${MAX_PORTS - 1}`);
}
