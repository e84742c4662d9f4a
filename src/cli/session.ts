// A capture or trace the CLI streams from the daemon until it ends by itself, or by Ctrl-C.

/** What the control client hands back for a stream: its end, and a way to ask for it early. */
export interface StreamSession<T> {
  done: Promise<T>;
  stop(): void;
}

/**
 * Waits for the session's end. The first Ctrl-C (or SIGTERM) asks the daemon for a clean end, a
 * second one does not wait for it; a reader that went away (`| head`) ends it too, as it ends
 * tcpdump.
 */
export async function untilEnd<T>(session: StreamSession<T>): Promise<T> {
  let signals = 0;
  const onSignal = (): void => {
    if (++signals > 1) process.exit(130);
    session.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.stdout.on('error', () => session.stop());
  try {
    return await session.done;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
