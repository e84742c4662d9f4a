// VXLAN tunnels (RFC 7348): the frames of a VXLAN port cross UDP sockets, their VXLAN header added
// and taken off by an iovec, so the inner frame sits in its slot where every frame does.
#pragma once
#include <napi.h>

#include <cstdint>

#include "batch.h"

namespace tapswitch {

// Status words of a received datagram that is no frame of this tunnel (see vxlan.cc).
constexpr uint32_t kStatusVxlanShort = 0x10001;
constexpr uint32_t kStatusVxlanFlags = 0x10002;
constexpr uint32_t kStatusVxlanVni = 0x10003;
constexpr uint32_t kStatusVxlanUnknownVtep = 0x10004;

// The per-batch calls, from Rx and Tx of batch.cc for a queue in kModeVxlan; `slot` and `len` are
// the batch's validated snapshot. They return frames moved, or -errno, and never throw.
int VxlanReceive(const Batch& b, const uint32_t* slot);
int VxlanSend(const Batch& b, const uint32_t* slot, const uint32_t* len);

// openVxlan(options) -> { fds: number[], underlayMtu }: one receiving socket per worker.
Napi::Value OpenVxlan(const Napi::CallbackInfo& info);
// vxlanConfigure(fd, remotes: number[], learning) -> 0 or -errno
Napi::Value VxlanConfigure(const Napi::CallbackInfo& info);
// vxlanFdb(fd) -> [{ mac: number (48 bits), dst: number, static: boolean, ageSeconds }]
Napi::Value VxlanFdb(const Napi::CallbackInfo& info);
// vxlanFdbSet(fd, mac: number, dst: number) / vxlanFdbDel(fd, mac: number) -> 0 or -errno
Napi::Value VxlanFdbSet(const Napi::CallbackInfo& info);
Napi::Value VxlanFdbDel(const Napi::CallbackInfo& info);
// vxlanClose(fd): closes every socket of the tunnel that fd belongs to.
Napi::Value VxlanClose(const Napi::CallbackInfo& info);

}  // namespace tapswitch
