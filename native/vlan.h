// VLAN tag pushes and pops for a batch, in the frames' own slots: one call per batch instead of a
// JavaScript loop per frame moving its bytes.
#pragma once
#include <napi.h>

namespace tapswitch {
// vlanRewrite(pool: Uint8Array, slotSize, desc: Uint32Array, plan: Uint32Array, count)
// plan holds `count` pairs (descriptor index, tag): a non-zero tag (TPID << 16 | TCI) is pushed in
// front of the frame's EtherType, a zero tag pops the four bytes there. The descriptor's length,
// hdr_len and csum_start follow. A frame that cannot be changed (no room for a tag in its slot: EMSGSIZE; a
// descriptor outside the pool: EINVAL) keeps its bytes and gets the errno in its status word.
// Returns how many failed, or -EINVAL for a bad argument; never throws.
Napi::Value VlanRewrite(const Napi::CallbackInfo& info);
}
