// The reply to a request that failed: its message, and the error's code for a client that tells them apart.
import type { Reply } from './protocol.js';

export function failureReply(e: unknown): Reply {
  const error = (e as Error).message;
  const code = (e as { code?: unknown }).code;
  return { ok: false, error, code: typeof code === 'string' ? code : 'EFAILED' };
}
