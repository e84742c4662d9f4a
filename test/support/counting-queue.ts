// A scripted queue that counts the native tx calls the tx stage makes on it.
import type { SlotMemory } from '../../src/native/queue.js';
import { ScriptedQueue } from './engine-rig.js';

export class CountingQueue extends ScriptedQueue {
  calls = 0;

  override tx(mem: SlotMemory, desc: Uint32Array, first: number, count: number): number {
    this.calls++;
    return super.tx(mem, desc, first, count);
  }
}
