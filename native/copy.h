// Batched copies between slots of two memories: one call per batch instead of a JS loop per frame.
#pragma once
#include <napi.h>

namespace tapswitch {
// copySlots(to: Uint8Array, toSlotSize, from: Uint8Array, fromSlotSize, plan: Uint32Array, count)
// plan holds `count` triples (toSlot, fromSlot, bytes); every copy is bounds-checked.
// Returns count, or -EINVAL for a bad argument or a copy out of bounds (skipped); never throws.
Napi::Value CopySlots(const Napi::CallbackInfo& info);
}
