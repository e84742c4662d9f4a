#include "batch.h"

#include <linux/if_packet.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "descriptor.h"
#include "typed.h"
#include "uring.h"
#include "vxlan.h"

namespace tapswitch {

namespace {

// A small frame and its virtio header move in one read() or write() of one buffer: readv/writev
// of two buffers costs the kernel a copy of the iovec array per frame (copy_iovec_from_user), the
// largest part of what the header adds to a 64-byte frame. Bigger frames are not worth the copy.
constexpr uint32_t kSmallFrame = 2048;
// Room for a virtio header and a GSO slot (GSO_SLOT_BYTES in frame-pool.ts): a read through the
// bounce buffer takes as much as readv into the slot would.
constexpr size_t kBounceBytes = kMaxVnetHdr + 65536 + 512;
// Reads go through the bounce buffer once this many small frames in a row came from the fd: a
// large frame read there costs one more copy of itself, so a stream of GSO frames stays on readv.
constexpr uint8_t kSmallRunToBounce = 4;
constexpr int kRunFds = 4096;

// Per-thread scratch for one batch, so no call allocates.
struct Scratch {
  alignas(64) uint8_t bounce[kBounceBytes];
  // Small frames read in a row per fd (saturating), which picks how the next is read.
  uint8_t smallRun[kRunFds];
  uint8_t hdr[kMaxBatch][kMaxVnetHdr];
  iovec iov[kMaxBatch][2];
  mmsghdr msgs[kMaxBatch];
  // Room for each received frame's PACKET_AUXDATA.
  alignas(cmsghdr) uint8_t control[kMaxBatch][CMSG_SPACE(sizeof(tpacket_auxdata))];
  // Slot and length as validated: descriptors sit in shared memory and may change under us.
  uint32_t slot[kMaxBatch];
  uint32_t len[kMaxBatch];
};
thread_local Scratch scratch;


// Reads and checks the arguments of rx and tx. They come from the forwarding path, so a bad one is
// a bug there: it fails this batch with EINVAL (returned, never thrown), and the worker goes on.
int ParseBatch(const Napi::CallbackInfo& info, Batch* b) {
  if (info.Length() < 6) return -EINVAL;
  for (size_t arg : {0, 2, 4, 5})
    if (!info[arg].IsNumber()) return -EINVAL;
  size_t poolBytes = 0;
  size_t descBytes = 0;
  b->pool = TypedData(info[1], napi_uint8_array, &poolBytes);
  uint8_t* desc = TypedData(info[3], napi_uint32_array, &descBytes);
  if (b->pool == nullptr || desc == nullptr) return -EINVAL;
  int64_t queue = info[0].As<Napi::Number>().Int64Value();
  if (queue < 0 || (queue >> kModeBits) > INT32_MAX) return -EINVAL;
  b->fd = int(queue >> kModeBits);
  b->mode = uint32_t(queue) & kModeMask;
  b->slotSize = info[2].As<Napi::Number>().Uint32Value();
  int64_t first = info[4].As<Napi::Number>().Int64Value();
  b->count = info[5].As<Napi::Number>().Int32Value();
  b->hdrLen = int(b->mode & kModeHdrMask);

  size_t descs = descBytes / 4 / kDescWords;
  if (b->slotSize == 0 || b->slotSize > poolBytes) return -EINVAL;
  if (b->count < 0 || b->count > kMaxBatch) return -EINVAL;
  if (first < 0 || uint64_t(first) + uint64_t(b->count) > descs) return -EINVAL;
  if (b->hdrLen > kMaxVnetHdr) return -EINVAL;
  b->slots = uint32_t(poolBytes / b->slotSize);
  b->desc = reinterpret_cast<uint32_t*>(desc) + first * kDescWords;
  return 0;
}

// Copies each slot (and, for tx, length) once and checks the copy, which is all the I/O then uses.
// Returns how many descriptors lead the batch before the first bad one (a slot outside the pool, a
// length beyond a slot): a caller bug, which the caller turns into EINVAL.
int Snapshot(const Batch& b, bool lengths) {
  for (int i = 0; i < b.count; ++i) {
    const uint32_t* d = b.desc + i * kDescWords;
    uint32_t slot = d[kSlot];
    if (slot >= b.slots) return i;
    scratch.slot[i] = slot;
    if (lengths) {
      uint32_t len = d[kLength];
      if (len > b.slotSize) return i;
      scratch.len[i] = len;
    }
  }
  return b.count;
}

void FillIov(const Batch& b, int i, uint32_t len) {
  iovec* iov = scratch.iov[i];
  iov[0].iov_base = scratch.hdr[i];
  iov[0].iov_len = b.hdrLen;
  iov[1].iov_base = b.pool + size_t(scratch.slot[i]) * b.slotSize;
  iov[1].iov_len = len;
}

}  // namespace

void Received(const Batch& b, int i, size_t bytes, bool truncated, const uint8_t* hdr) {
  uint32_t* d = b.desc + i * kDescWords;
  // Shorter than the virtio header: no frame at all, reported so that the caller counts it.
  if (bytes < size_t(b.hdrLen)) {
    d[kLength] = 0;
    d[kStatus] = EBADMSG;
    ClearVnet(d);
    return;
  }
  d[kLength] = uint32_t(bytes - b.hdrLen);
  // A read that fills the whole slot may have lost the frame's tail.
  d[kStatus] = truncated || d[kLength] >= b.slotSize ? EMSGSIZE : 0;
  if (b.hdrLen) {
    UnpackVnet(hdr, d);
  } else {
    ClearVnet(d);
  }
}

namespace {

// Whether the next frame from the fd is read into the bounce buffer: it carries a virtio header,
// the slot fits, and the frames it sent lately were small.
bool ReadThroughBounce(const Batch& b) {
  if (!b.hdrLen || b.hdrLen + size_t(b.slotSize) > kBounceBytes) return false;
  return b.fd >= 0 && b.fd < kRunFds && scratch.smallRun[b.fd] >= kSmallRunToBounce;
}

void NoteFrameSize(const Batch& b, size_t frame) {
  if (b.fd < 0 || b.fd >= kRunFds) return;
  uint8_t& run = scratch.smallRun[b.fd];
  run = frame > kSmallFrame ? 0 : run < kSmallRunToBounce ? uint8_t(run + 1) : run;
}

int ReadFrames(const Batch& b) {
  int i = 0;
  while (i < b.count) {
    FillIov(b, i, b.slotSize);
    iovec* iov = scratch.iov[i];
    bool bounce = ReadThroughBounce(b);
    ssize_t n = bounce ? read(b.fd, scratch.bounce, b.hdrLen + size_t(b.slotSize))
                : b.hdrLen ? readv(b.fd, iov, 2)
                           : read(b.fd, iov[1].iov_base, b.slotSize);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || i > 0) break;
      return -errno;
    }
    // Not a TAP after all (end of file): stop rather than read forever.
    if (n == 0) break;
    const uint8_t* hdr = scratch.hdr[i];
    if (bounce && n > b.hdrLen) {
      std::memcpy(iov[1].iov_base, scratch.bounce + b.hdrLen, size_t(n) - b.hdrLen);
      hdr = scratch.bounce;
    }
    if (b.hdrLen && n >= b.hdrLen) NoteFrameSize(b, size_t(n) - b.hdrLen);
    Received(b, i, size_t(n), false, hdr);
    ++i;
  }
  return i;
}

// The VLAN tag the kernel took off a received frame, from its PACKET_AUXDATA, in the bits of
// kVnetCsum kept for it; 0 when it took none.
uint32_t RxVlan(msghdr& m) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
    tpacket_auxdata aux;
    std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
    // As libpcap reads it: kernels before TP_STATUS_VLAN_VALID marked a tag by a non-zero TCI.
    if ((aux.tp_status & TP_STATUS_VLAN_VALID) == 0 && aux.tp_vlan_tci == 0) return 0;
    return kRxVlanTagged | (aux.tp_vlan_tci & kRxVlanIdMask) << kRxVlanIdShift;
  }
  return 0;
}

int ReceiveFrames(const Batch& b) {
  for (int i = 0; i < b.count; ++i) {
    FillIov(b, i, b.slotSize);
    msghdr& m = scratch.msgs[i].msg_hdr;
    m = msghdr{};
    m.msg_iov = b.hdrLen ? scratch.iov[i] : &scratch.iov[i][1];
    m.msg_iovlen = b.hdrLen ? 2 : 1;
    m.msg_control = scratch.control[i];
    m.msg_controllen = sizeof scratch.control[i];
  }
  int n;
  do {
    n = recvmmsg(b.fd, scratch.msgs, b.count, MSG_DONTWAIT | MSG_TRUNC, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EAGAIN ? 0 : -errno;
  for (int i = 0; i < n; ++i) {
    bool truncated = scratch.msgs[i].msg_hdr.msg_flags & MSG_TRUNC;
    size_t bytes = scratch.msgs[i].msg_len;
    if (truncated) bytes = b.hdrLen + size_t(b.slotSize);
    Received(b, i, bytes, truncated, scratch.hdr[i]);
    b.desc[i * kDescWords + kVnetCsum] |= RxVlan(scratch.msgs[i].msg_hdr);
  }
  return n;
}

void PrepareSend(const Batch& b, int i) {
  uint32_t* d = b.desc + i * kDescWords;
  FillIov(b, i, scratch.len[i]);
  if (b.hdrLen) PackVnet(d, scratch.hdr[i], b.hdrLen);
  d[kStatus] = 0;
}

// Writes frame i with its virtio header from one buffer (see kSmallFrame).
ssize_t WriteThroughBounce(const Batch& b, int i) {
  const iovec* iov = scratch.iov[i];
  std::memcpy(scratch.bounce, iov[0].iov_base, b.hdrLen);
  std::memcpy(scratch.bounce + b.hdrLen, iov[1].iov_base, iov[1].iov_len);
  return write(b.fd, scratch.bounce, b.hdrLen + iov[1].iov_len);
}

int WriteFrames(const Batch& b) {
  int i = 0;
  while (i < b.count) {
    PrepareSend(b, i);
    iovec* iov = scratch.iov[i];
    ssize_t n = !b.hdrLen                        ? write(b.fd, iov[1].iov_base, iov[1].iov_len)
                : iov[1].iov_len <= kSmallFrame ? WriteThroughBounce(b, i)
                                                : writev(b.fd, iov, 2);
    if (n < 0) {
      if (errno == EINTR) continue;
      b.desc[i * kDescWords + kStatus] = uint32_t(errno);
      break;
    }
    ++i;
  }
  return i;
}

int SendFrames(const Batch& b) {
  for (int i = 0; i < b.count; ++i) {
    PrepareSend(b, i);
    msghdr& m = scratch.msgs[i].msg_hdr;
    m = msghdr{};
    m.msg_iov = b.hdrLen ? scratch.iov[i] : &scratch.iov[i][1];
    m.msg_iovlen = b.hdrLen ? 2 : 1;
  }
  int sent = 0;
  // sendmmsg stops at the first failing frame; asking again from there yields its errno.
  while (sent < b.count) {
    int n = sendmmsg(b.fd, scratch.msgs + sent, b.count - sent, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      b.desc[sent * kDescWords + kStatus] = uint32_t(errno);
      break;
    }
    sent += n;
  }
  return sent;
}

}  // namespace

Napi::Value Rx(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Batch b;
  if (int err = ParseBatch(info, &b)) return Napi::Number::New(env, err);
  // A bad descriptor fails the whole read: none of the batch's slots is trusted.
  if (Snapshot(b, false) < b.count) return Napi::Number::New(env, -EINVAL);
  int n;
  if (b.count == 0) {
    n = 0;
  } else if (b.mode & kModeVxlan) {
    n = VxlanReceive(b, scratch.slot);
  } else if (b.mode & kModeUring) {
    for (int i = 0; i < b.count; ++i) FillIov(b, i, b.slotSize);
    n = UringReadFrames(b, scratch.iov, scratch.hdr);
  } else if (b.mode & kModeSocket) {
    n = ReceiveFrames(b);
  } else {
    n = ReadFrames(b);
  }
  return Napi::Number::New(env, n);
}

Napi::Value Tx(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Batch b;
  if (int err = ParseBatch(info, &b)) return Napi::Number::New(env, err);
  // The frames before a bad descriptor go out; the bad one then fails with EINVAL, as a frame
  // the kernel refused would, so the caller drops it and goes on with the rest.
  int valid = Snapshot(b, true);
  int whole = b.count;
  b.count = valid;
  int n;
  if (b.count == 0) {
    n = 0;
  } else if (b.mode & kModeVxlan) {
    n = VxlanSend(b, scratch.slot, scratch.len);
  } else if (b.mode & kModeUring) {
    for (int i = 0; i < b.count; ++i) PrepareSend(b, i);
    n = UringWriteFrames(b, scratch.iov);
  } else if (b.mode & kModeSocket) {
    n = SendFrames(b);
  } else {
    n = WriteFrames(b);
  }
  if (n == valid && valid < whole) b.desc[valid * kDescWords + kStatus] = EINVAL;
  return Napi::Number::New(env, n);
}

}  // namespace tapswitch
