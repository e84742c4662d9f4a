// A stage of the frame path: one step run over a whole batch, like a VPP graph node. It reads the
// frames and the batch's decision arrays, and writes its own decisions there.
import type { Batch } from './batch.js';
import type { TraceWriter } from '../trace/writer.js';

/** The stages in the order a frame meets them; trace records name them by their index here. */
export const STAGE_NAMES = ['rx', 'classify', 'l2', 'l3', 'offload', 'tx', 'impair'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

export const STAGE_RX = 0;
export const STAGE_CLASSIFY = 1;
export const STAGE_L2 = 2;
export const STAGE_L3 = 3;
export const STAGE_OFFLOAD = 4;
export const STAGE_TX = 5;
/** Link impairment: on what a port sends the switch, after classify; on what the switch sends it, at tx. */
export const STAGE_IMPAIR = 6;

export interface Stage {
  /** Its index in STAGE_NAMES. */
  readonly id: number;
  /** Decides for every frame of the batch. */
  run(batch: Batch): void;
  /**
   * Trace hooks, called only for traced frames of a batch that has some: what the stage is about
   * to decide from (before) and what it decided (after), written as trace events.
   */
  traceBefore?(batch: Batch, i: number, trace: TraceWriter): void;
  traceAfter?(batch: Batch, i: number, trace: TraceWriter): void;
}
