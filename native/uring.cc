#include "uring.h"

#include <cerrno>
#include <cstring>

#ifdef TAPSWITCH_HAVE_LIBURING
#include <liburing.h>
#endif

namespace tapswitch {

#ifdef TAPSWITCH_HAVE_LIBURING

namespace {

// One ring per thread: each forwarding worker submits only its own batches.
struct ThreadRing {
  io_uring ring;
  int state = 0;  // 0 untried, 1 ready, -errno failed
  ~ThreadRing() {
    if (state == 1) io_uring_queue_exit(&ring);
  }
  int Ensure() {
    if (state != 0) return state == 1 ? 0 : -state;
    io_uring_params params;
    std::memset(&params, 0, sizeof params);
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
    int err = io_uring_queue_init_params(kMaxBatch, &ring, &params);
    if (err == -EINVAL) {
      std::memset(&params, 0, sizeof params);
      err = io_uring_queue_init_params(kMaxBatch, &ring, &params);
    }
    state = err < 0 ? err : 1;
    return err < 0 ? -err : 0;
  }
};
thread_local ThreadRing threadRing;
thread_local int results[kMaxBatch];

// Submits what is queued and collects every completion into results[user_data].
int SubmitAndReap(int count) {
  io_uring* ring = &threadRing.ring;
  int err;
  do {
    err = io_uring_submit_and_wait(ring, count);
  } while (err == -EINTR);
  if (err < 0) return err;
  int seen = 0;
  while (seen < count) {
    io_uring_cqe* cqe;
    err = io_uring_wait_cqe(ring, &cqe);
    if (err == -EINTR) continue;
    if (err < 0) return err;
    results[cqe->user_data] = cqe->res;
    io_uring_cqe_seen(ring, cqe);
    ++seen;
  }
  return 0;
}

}  // namespace

bool UringCompiledIn() { return true; }

int UringProbe() { return threadRing.Ensure(); }

int UringReadFrames(const Batch& b, iovec (*iov)[2], uint8_t (*hdr)[kMaxVnetHdr]) {
  if (int err = threadRing.Ensure()) return -err;
  for (int i = 0; i < b.count; ++i) {
    io_uring_sqe* sqe = io_uring_get_sqe(&threadRing.ring);
    if (b.hdrLen) {
      io_uring_prep_readv(sqe, b.fd, iov[i], 2, -1);
    } else {
      io_uring_prep_read(sqe, b.fd, iov[i][1].iov_base, unsigned(iov[i][1].iov_len), -1);
    }
    // O_NONBLOCK alone makes io_uring park the read until data comes; RWF_NOWAIT returns EAGAIN.
    sqe->rw_flags = RWF_NOWAIT;
    sqe->user_data = uint64_t(i);
  }
  if (int err = SubmitAndReap(b.count)) return err;

  int out = 0;
  int firstError = 0;
  for (int i = 0; i < b.count; ++i) {
    int res = results[i];
    if (res < b.hdrLen || res <= 0) {
      if (res < 0 && res != -EAGAIN && !firstError) firstError = res;
      continue;
    }
    uint32_t* to = b.desc + out * kDescWords;
    if (out != i) {
      uint32_t* from = b.desc + i * kDescWords;
      std::swap(to[kSlot], from[kSlot]);
      std::memcpy(hdr[out], hdr[i], kMaxVnetHdr);
    }
    to[kLength] = uint32_t(res);
    ++out;
  }
  return out > 0 ? out : firstError;
}

int UringWriteFrames(const Batch& b, iovec (*iov)[2]) {
  if (int err = threadRing.Ensure()) return -err;
  for (int i = 0; i < b.count; ++i) {
    io_uring_sqe* sqe = io_uring_get_sqe(&threadRing.ring);
    if (b.hdrLen) {
      io_uring_prep_writev(sqe, b.fd, iov[i], 2, -1);
    } else {
      io_uring_prep_write(sqe, b.fd, iov[i][1].iov_base, unsigned(iov[i][1].iov_len), -1);
    }
    if (i + 1 < b.count) sqe->flags |= IOSQE_IO_LINK;
    sqe->user_data = uint64_t(i);
  }
  if (int err = SubmitAndReap(b.count)) {
    b.desc[kStatus] = uint32_t(-err);
    return 0;
  }
  for (int i = 0; i < b.count; ++i) {
    if (results[i] < 0) {
      b.desc[i * kDescWords + kStatus] = uint32_t(-results[i]);
      return i;
    }
  }
  return b.count;
}

#else

bool UringCompiledIn() { return false; }
int UringProbe() { return ENOSYS; }
int UringReadFrames(const Batch&, iovec (*)[2], uint8_t (*)[kMaxVnetHdr]) { return -ENOSYS; }
int UringWriteFrames(const Batch& b, iovec (*)[2]) {
  b.desc[kStatus] = ENOSYS;
  return 0;
}

#endif

}  // namespace tapswitch
