import { native } from './addon.js';

// Typed errors for the native layer: every failure carries its errno name and a fix.

export class IoError extends Error {
  override readonly name = 'IoError';
  constructor(
    message: string,
    /** errno name, e.g. 'EPERM' */
    readonly code: string,
    readonly errno: number,
    readonly syscall: string,
  ) {
    super(message);
  }
}

interface NativeErrorShape {
  message: string;
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
}

function isNativeError(e: unknown): e is NativeErrorShape & Error {
  return e instanceof Error && typeof (e as NativeErrorShape).code === 'string' && typeof (e as NativeErrorShape).errno === 'number';
}

/** Runs a native call that reports failure by throwing, and turns its system errors into IoError. */
export function callNative<T>(call: () => T): T {
  try {
    return call();
  } catch (e) {
    if (isNativeError(e)) throw new IoError(e.message, String(e.code), Number(e.errno), String(e.syscall ?? ''));
    throw e;
  }
}

/** The errno name for a number that a batch call reported (a return value or a status word). */
export function errnoName(errno: number): string {
  return native.errnoName(errno);
}
