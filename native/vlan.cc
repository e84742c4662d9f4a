#include "vlan.h"

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "descriptor.h"
#include "typed.h"

namespace tapswitch {

namespace {

constexpr uint32_t kEthType = 12;
constexpr uint32_t kTagBytes = 4;

// The headers behind the tag moved by `delta`: the virtio header's hdr_len and csum_start follow.
void MoveVnet(uint32_t* d, int delta) {
  uint32_t flags = d[kVnetFlags];
  if ((flags & (kVirtioNeedsCsum | kVnetGsoMask)) == 0) return;
  uint32_t hdrLen = flags >> 16;
  if (hdrLen != 0) d[kVnetFlags] = (flags & 0xffffu) | uint32_t(hdrLen + delta) << 16;
  if (flags & kVirtioNeedsCsum) d[kVnetGso] = (d[kVnetGso] & 0xffffu) | uint32_t((d[kVnetGso] >> 16) + delta) << 16;
}

}  // namespace

Napi::Value VlanRewrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fail = [&]() { return Napi::Number::New(env, -EINVAL); };
  if (info.Length() < 5 || !info[1].IsNumber() || !info[4].IsNumber()) return fail();
  size_t poolBytes = 0, descBytes = 0, planBytes = 0;
  uint8_t* pool = TypedData(info[0], napi_uint8_array, &poolBytes);
  uint32_t* desc = reinterpret_cast<uint32_t*>(TypedData(info[2], napi_uint32_array, &descBytes));
  const uint32_t* plan = reinterpret_cast<const uint32_t*>(TypedData(info[3], napi_uint32_array, &planBytes));
  if (pool == nullptr || desc == nullptr || plan == nullptr) return fail();
  size_t slotSize = info[1].As<Napi::Number>().Uint32Value();
  uint32_t count = info[4].As<Napi::Number>().Uint32Value();
  if (slotSize == 0 || size_t(count) * 2 * 4 > planBytes) return fail();
  size_t slots = poolBytes / slotSize;
  size_t descs = descBytes / 4 / kDescWords;
  int failed = 0;
  for (uint32_t k = 0; k < count; ++k) {
    uint32_t i = plan[2 * k];
    uint32_t tag = plan[2 * k + 1];
    if (i >= descs) return fail();
    uint32_t* d = desc + size_t(i) * kDescWords;
    uint32_t len = d[kLength];
    if (d[kSlot] >= slots || len > slotSize || len < kEthType + (tag ? 0 : kTagBytes)) {
      d[kStatus] = EINVAL;
      ++failed;
      continue;
    }
    uint8_t* at = pool + size_t(d[kSlot]) * slotSize;
    if (tag == 0) {
      std::memmove(at + kEthType, at + kEthType + kTagBytes, len - kEthType - kTagBytes);
      d[kLength] = len - kTagBytes;
      MoveVnet(d, -int(kTagBytes));
      continue;
    }
    if (len + kTagBytes > slotSize) {
      d[kStatus] = EMSGSIZE;
      ++failed;
      continue;
    }
    std::memmove(at + kEthType + kTagBytes, at + kEthType, len - kEthType);
    const uint8_t wire[kTagBytes] = {uint8_t(tag >> 24), uint8_t(tag >> 16), uint8_t(tag >> 8), uint8_t(tag)};
    std::memcpy(at + kEthType, wire, kTagBytes);
    d[kLength] = len + kTagBytes;
    MoveVnet(d, int(kTagBytes));
  }
  return Napi::Number::New(env, failed);
}

}  // namespace tapswitch
