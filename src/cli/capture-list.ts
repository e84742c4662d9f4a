// capture --list: the captures running on a switch, as several tcpdumps may be.
import { request } from '../control/client.js';
import type { CaptureView } from '../control/protocol.js';
import { table } from './format.js';
import { print } from './options.js';

export function formatCaptures(captures: CaptureView[], switchName: string): string {
  if (captures.length === 0) return `no capture is running on ${switchName}`;
  const rows = captures.map((c) => [c.id, c.port, c.drops ? `drops ${c.direction}` : c.direction, c.filter ?? '-', c.started, c.captured, c.dropped]);
  return table(['ID', 'PORT', 'FRAMES', 'FILTER', 'STARTED', 'CAPTURED', 'DROPPED BY CAPTURE'], rows);
}

export async function listCaptures(switchName: string, json: boolean | undefined): Promise<void> {
  const captures = await request(switchName, { cmd: 'capture-list' });
  print(json, captures, () => formatCaptures(captures, switchName));
}
