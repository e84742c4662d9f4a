// The library's side of link impairment: checks a spec, puts it in the shared table the workers
// read, and sums their counters. A port's impairment goes with the port.
import { ImpairCounterTable, type ImpairCounters } from '../dataplane/impair/impair-counters.js';
import { DIRECTION_IN, DIRECTION_OUT, ImpairTable } from '../dataplane/impair/impair-table.js';
import { ImpairSpecError, checkImpairSpec } from '../dataplane/impair/check-spec.js';
import type { ImpairDirection, ImpairSpec } from '../dataplane/impair/spec.js';

export class Impairments {
  constructor(
    private readonly table: ImpairTable,
    private readonly counters: ImpairCounterTable,
    /** Throws when the switch has no port `id`. */
    private readonly checkPort: (id: number) => void,
  ) {}

  set(id: number, direction: ImpairDirection, spec: ImpairSpec | null): void {
    this.checkPort(id);
    if (direction !== 'in' && direction !== 'out') throw new ImpairSpecError('direction', `must be in or out, got ${String(direction)}`);
    this.table.set(id, direction === 'in' ? DIRECTION_IN : DIRECTION_OUT, spec === null ? null : checkImpairSpec(spec));
  }

  get(id: number): { in: ImpairSpec | null; out: ImpairSpec | null } {
    this.checkPort(id);
    return { in: this.table.get(id, DIRECTION_IN), out: this.table.get(id, DIRECTION_OUT) };
  }

  counts(id: number): { in: ImpairCounters; out: ImpairCounters } {
    this.checkPort(id);
    return { in: this.counters.read(id, DIRECTION_IN), out: this.counters.read(id, DIRECTION_OUT) };
  }

  /** The port is gone: its impairment and its counters with it. */
  forget(id: number): void {
    this.table.set(id, DIRECTION_IN, null);
    this.table.set(id, DIRECTION_OUT, null);
    this.counters.clearPort(id);
  }
}
