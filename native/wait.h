// Parks a worker thread until one of its fds is readable, a timeout passes, or another thread wakes it.
#pragma once
#include <napi.h>

namespace tapswitch {

constexpr int kWaitTimeout = 0;
constexpr int kWaitReadable = 1;
constexpr int kWaitWoken = 2;

Napi::Value WaiterOpen(const Napi::CallbackInfo& info);  // () -> {epfd, wakeFd}
Napi::Value WaiterAdd(const Napi::CallbackInfo& info);   // (epfd, fd, token)
Napi::Value WaiterDel(const Napi::CallbackInfo& info);   // (epfd, fd)
// (epfd, timeoutMs, ready: Int32Array) -> mask of kWaitReadable | kWaitWoken (0: timeout), or
// -errno; ready[0] is how many tokens of readable fds follow. Never throws.
Napi::Value Wait(const Napi::CallbackInfo& info);
Napi::Value Wake(const Napi::CallbackInfo& info);  // (wakeFd) -> 0 or -errno; never throws

}  // namespace tapswitch
