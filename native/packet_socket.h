#pragma once
#include <napi.h>

namespace tapswitch {
// openPacket({ifname, netns?, fanout?, vnetHdr?, ignoreOutgoing?, promisc?, qdiscBypass?, rcvbuf?, sndbuf?})
//   -> {fd, ifindex, vnetHdrSize}
Napi::Value OpenPacket(const Napi::CallbackInfo& info);
// packetStatistics(fd) -> {packets, drops} since the last call (the kernel resets them), or -errno.
Napi::Value PacketStatistics(const Napi::CallbackInfo& info);
}
