#include "copy.h"

#include <cstdint>
#include <cstring>

#include "errors.h"

namespace tapswitch {

namespace {

struct Memory {
  uint8_t* data;
  size_t bytes;
};

Memory View(const Napi::Value& value, napi_typedarray_type expected, const char* what) {
  Napi::Env env = value.Env();
  if (!value.IsTypedArray()) ThrowUsage(env, std::string("copySlots: ") + what + " must be a typed array");
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buffer;
  size_t offset;
  NAPI_THROW_IF_FAILED(env, napi_get_typedarray_info(env, value, &type, &length, &data, &buffer, &offset), Memory{});
  if (type != expected) ThrowUsage(env, std::string("copySlots: ") + what + " has the wrong element type");
  size_t element = expected == napi_uint32_array ? 4 : 1;
  return {static_cast<uint8_t*>(data), length * element};
}

}  // namespace

Napi::Value CopySlots(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6) ThrowUsage(env, "copySlots(to, toSlotSize, from, fromSlotSize, plan, count)");
  Memory to = View(info[0], napi_uint8_array, "to");
  size_t toSlot = info[1].As<Napi::Number>().Uint32Value();
  Memory from = View(info[2], napi_uint8_array, "from");
  size_t fromSlot = info[3].As<Napi::Number>().Uint32Value();
  Memory planMem = View(info[4], napi_uint32_array, "plan");
  uint32_t count = info[5].As<Napi::Number>().Uint32Value();
  if (size_t(count) * 3 * 4 > planMem.bytes) ThrowUsage(env, "copySlots: plan is shorter than count triples");
  const uint32_t* plan = reinterpret_cast<const uint32_t*>(planMem.data);
  for (uint32_t i = 0; i < count; ++i) {
    size_t t = size_t(plan[3 * i]) * toSlot;
    size_t f = size_t(plan[3 * i + 1]) * fromSlot;
    size_t n = plan[3 * i + 2];
    if (n > toSlot || n > fromSlot || t + n > to.bytes || f + n > from.bytes) ThrowUsage(env, "copySlots: a copy falls outside its slot or memory");
    // The backlog copies within one pool, so the ranges may share a buffer.
    std::memmove(to.data + t, from.data + f, n);
  }
  return env.Undefined();
}

}  // namespace tapswitch
