#pragma once
#include <napi.h>

namespace tapswitch {
// openTap({name?, queues?, multiQueue?, vnetHdrSize?, offloads?, netns?, existing?, persist?})
//   -> {name, fds, vnetHdrSize, offloads, multiQueue}
Napi::Value OpenTap(const Napi::CallbackInfo& info);
}
