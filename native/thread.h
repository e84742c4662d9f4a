// Small fd and thread helpers for the forwarding workers.
#pragma once
#include <napi.h>

namespace tapswitch {
Napi::Value PinThread(const Napi::CallbackInfo& info);      // (cpu) pins the calling thread
Napi::Value NameThread(const Napi::CallbackInfo& info);     // (name) names the calling thread
Napi::Value SetNonBlocking(const Napi::CallbackInfo& info); // (fd, on)
Napi::Value Close(const Napi::CallbackInfo& info);          // (fd)
Napi::Value SocketPair(const Napi::CallbackInfo& info);     // () [fd, fd], connected datagram sockets
Napi::Value CurrentThreadId(const Napi::CallbackInfo& info); // () the calling thread's tid
Napi::Value SetThreadNice(const Napi::CallbackInfo& info);  // (tid, nice)
}
