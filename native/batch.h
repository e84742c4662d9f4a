// Batched frame I/O: one call moves up to a budget of frames between an fd and pool slots.
#pragma once
#include <napi.h>

#include <cstdint>

namespace tapswitch {

// Mode bits, after the virtio header length in the low byte.
constexpr uint32_t kModeHdrMask = 0xff;
constexpr uint32_t kModeSocket = 1u << 8;  // fd is an AF_PACKET socket: recvmmsg/sendmmsg
constexpr uint32_t kModeUring = 1u << 9;   // batch the syscalls through this thread's io_uring
constexpr uint32_t kModeVxlan = 1u << 10;  // fd is a VXLAN tunnel's UDP socket (vxlan.h)
// rx and tx name their queue by one number, fd << kModeBits | mode: six arguments are what
// node-addon-api's CallbackInfo holds without allocating, and these calls run once per batch.
constexpr int kModeBits = 11;
constexpr uint32_t kModeMask = (1u << kModeBits) - 1;

struct Batch {
  int fd;
  uint8_t* pool;
  uint32_t slotSize;
  uint32_t slots;
  uint32_t* desc;  // points at the first descriptor of the batch
  int count;
  int hdrLen;
  uint32_t mode;
};

// Fills descriptor i after a read of `bytes` (virtio header included, its copy at hdr): the length
// and virtio fields, and the status: EMSGSIZE for a frame cut to its slot, EBADMSG for a read
// shorter than the virtio header (length 0), which is no frame at all.
void Received(const Batch& b, int i, size_t bytes, bool truncated, const uint8_t* hdr);

// The per-batch calls never throw: a bad argument (a caller bug) returns -EINVAL, as a failed
// system call returns -errno, and the worker counts it and goes on.
// rx(fd, pool: Uint8Array, slotSize, desc: Uint32Array, first, budget, mode) -> frames read, or -errno
Napi::Value Rx(const Napi::CallbackInfo& info);
// tx(fd, pool: Uint8Array, slotSize, desc: Uint32Array, first, count, mode) -> frames written;
// the descriptors of frames not written follow, the first carrying its errno in its status word (EINVAL
// for a descriptor whose slot or length is out of range); -EINVAL when the arguments are bad.
Napi::Value Tx(const Napi::CallbackInfo& info);

}  // namespace tapswitch
