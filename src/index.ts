// tapswitch as a library.
export * from './native/index.js';
export { FramePool, GSO_SLOT_BYTES, MTU_SLOT_BYTES } from './dataplane/core/frame-pool.js';
export { BareForwarder, type BareForwarderOptions } from './forwarder/bare-forwarder.js';
export type { ForwarderStats, DirectionStats } from './forwarder/stats.js';
export { Switch, type SwitchOptions, type PortInfo, type PortStats, type SwitchStats, type MemoryPort, type WorkerStats, type UplinkOptions, type UplinkInfo, type PublishedPort } from './switch/switch.js';
export type { CtEntry, CtTuple, CtCounters, CtTimeouts } from './dataplane/l3/conntrack.js';
export { Capture, CaptureFileWriter, type CaptureOptions, type CapturedFrame, type CaptureStats } from './switch/capture.js';
export type { FdbEntry, FdbCounters } from './dataplane/l2/fdb.js';
export type { PortFlags } from './dataplane/core/port-table.js';
export { DROP_REASONS, DROP_REASON_INFO, type DropReason } from './dataplane/core/drop-reasons.js';
export { POLL_MODES, type PollMode, type PollSettings } from './dataplane/core/poll-policy.js';
export { LINK_LOCAL_NAMES, formatLinkLocal, parseLinkLocal, type LinkLocalName } from './dataplane/l2/link-local.js';
export { Trace, type TraceOptions, type TraceFrameOptions } from './switch/trace/trace.js';
export type { TraceBlock, TraceDecision, TraceFate, TracePort, TraceStage, TraceTuple } from './switch/trace/block.js';
export { formatTraceBlock } from './switch/trace/text.js';
export { parseFrameSpec, buildFrame, type FrameSpec, type ResolvedFrameSpec } from './packet/frame-spec.js';
export { describeFrame } from './packet/summary.js';
export { attachTapPort, type AttachedPort } from './netns/switch-ports.js';
