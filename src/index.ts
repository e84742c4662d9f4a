// tapswitch as a library.
export * from './native/index.js';
export { FramePool, GSO_SLOT_BYTES, MTU_SLOT_BYTES } from './dataplane/frame-pool.js';
export { BareForwarder, type BareForwarderOptions } from './forwarder/bare-forwarder.js';
export type { ForwarderStats, DirectionStats } from './forwarder/stats.js';
