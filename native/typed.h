// The memory behind a typed array argument of a per-batch call.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace tapswitch {

// napi_get_typedarray_info reaches the memory of SharedArrayBuffer views too, which
// Napi::TypedArray::ArrayBuffer() refuses. Null when the value is no typed array of that type.
inline uint8_t* TypedData(const Napi::Value& value, napi_typedarray_type expected, size_t* bytes) {
  if (!value.IsTypedArray()) return nullptr;
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(value.Env(), value, &type, &length, &data, &buffer, &offset) != napi_ok || type != expected) return nullptr;
  *bytes = expected == napi_uint32_array ? length * 4 : length;
  return static_cast<uint8_t*>(data);
}

}  // namespace tapswitch
