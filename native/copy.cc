#include "copy.h"

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace tapswitch {

namespace {

struct Memory {
  uint8_t* data;
  size_t bytes;
};

// Null data when the value is no typed array of the expected type.
Memory View(const Napi::Value& value, napi_typedarray_type expected) {
  if (!value.IsTypedArray()) return {nullptr, 0};
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(value.Env(), value, &type, &length, &data, &buffer, &offset) != napi_ok || type != expected) return {nullptr, 0};
  size_t element = expected == napi_uint32_array ? 4 : 1;
  return {static_cast<uint8_t*>(data), length * element};
}

}  // namespace

// The forwarding path calls this once per batch, so a bad argument is a bug there: it is returned as
// -EINVAL, never thrown, and a copy that falls outside its memory is skipped while the others are done.
Napi::Value CopySlots(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fail = [&]() { return Napi::Number::New(env, -EINVAL); };
  if (info.Length() < 6 || !info[1].IsNumber() || !info[3].IsNumber() || !info[5].IsNumber()) return fail();
  Memory to = View(info[0], napi_uint8_array);
  Memory from = View(info[2], napi_uint8_array);
  Memory planMem = View(info[4], napi_uint32_array);
  if (to.data == nullptr || from.data == nullptr || planMem.data == nullptr) return fail();
  size_t toSlot = info[1].As<Napi::Number>().Uint32Value();
  size_t fromSlot = info[3].As<Napi::Number>().Uint32Value();
  uint32_t count = info[5].As<Napi::Number>().Uint32Value();
  if (size_t(count) * 3 * 4 > planMem.bytes) return fail();
  const uint32_t* plan = reinterpret_cast<const uint32_t*>(planMem.data);
  bool skipped = false;
  for (uint32_t i = 0; i < count; ++i) {
    size_t t = size_t(plan[3 * i]) * toSlot;
    size_t f = size_t(plan[3 * i + 1]) * fromSlot;
    size_t n = plan[3 * i + 2];
    if (n > toSlot || n > fromSlot || t + n > to.bytes || f + n > from.bytes) {
      skipped = true;
      continue;
    }
    // The backlog copies within one pool, so the ranges may share a buffer.
    std::memmove(to.data + t, from.data + f, n);
  }
  return skipped ? fail() : Napi::Number::New(env, count);
}

}  // namespace tapswitch
