#pragma once
#include <napi.h>

namespace tapswitch {
// openPacket({ifname, netns?, fanout?, vnetHdr?, ignoreOutgoing?, promisc?, qdiscBypass?, rcvbuf?, sndbuf?})
//   -> {fd, ifindex, vnetHdrSize}
Napi::Value OpenPacket(const Napi::CallbackInfo& info);
}
