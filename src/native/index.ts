// The native frame I/O layer: TAP and AF_PACKET queues, batched rx/tx into slot memory, waiting.
export { C as constants } from './addon.js';
export * from './descriptor.js';
export { IoError, errnoName } from './errors.js';
export * from './packet.js';
export * from './queue.js';
export * from './tap.js';
export * from './thread.js';
export * from './wait.js';
