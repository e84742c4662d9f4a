// The CNI error object (spec section 5, "Error"): a code from the spec's table, or 100 and up for
// tapswitch's own, a short msg and details that name the way out. main prints it on stdout.
import { ControlError } from '../control/client.js';
import { InputError } from '../control/subnet.js';
import { CommandError } from '../netns/ip.js';

export const CNI_CODE = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnv: 4,
  io: 5,
  decode: 6,
  invalidConfig: 7,
  tryLater: 11,
  unavailable: 50,
  /** Not available, and the containers already attached may have limited connectivity. */
  unavailableAttached: 51,
  /** The switch refused a request, or a command tapswitch ran failed. */
  switchRefused: 100,
  /** The switch was not running and could not be started. */
  switchStart: 101,
  /** CHECK found the attachment other than ADD left it. */
  checkFailed: 102,
  /** GC could not remove every stale attachment. */
  gcIncomplete: 103,
  /** An error tapswitch did not expect: a bug. */
  unexpected: 110,
} as const;

export class CniError extends Error {
  override readonly name = 'CniError';
  constructor(
    readonly code: number,
    /** A short message characterizing the error, the spec's msg. */
    readonly msg: string,
    /** What went wrong in full and what to do about it. */
    readonly details: string,
  ) {
    super(`${msg}: ${details}`);
  }
}

export interface CniErrorObject {
  cniVersion: string;
  code: number;
  msg: string;
  details: string;
}

/** Any error as the spec's object: tapswitch's own errors keep their message, which names the fix. */
export function errorObject(cniVersion: string, e: unknown): CniErrorObject {
  if (e instanceof CniError) return { cniVersion, code: e.code, msg: e.msg, details: e.details };
  if (e instanceof ControlError || e instanceof InputError || e instanceof CommandError) {
    return { cniVersion, code: CNI_CODE.switchRefused, msg: 'tapswitch refused', details: e.message };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { cniVersion, code: CNI_CODE.unexpected, msg: 'unexpected error in tapswitch-cni', details: `${message} (a bug: report it with this message)` };
}
