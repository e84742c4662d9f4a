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
  ~ThreadRing() { Reset(); }
  // After a failed submit or wait the ring may hold stale work: drop it and start afresh next time.
  void Reset() {
    if (state == 1) io_uring_queue_exit(&ring);
    state = 0;
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
thread_local uint32_t failedDesc[kMaxBatch * kDescWords];

// Each failed RWF_NOWAIT read still costs a trip into the driver, so submit about as many reads as
// the fd last had frames (doubling while every read succeeds), not the whole budget each time.
constexpr int kWindowFds = 4096;
thread_local uint16_t readWindow[kWindowFds];

int ReadsToSubmit(int fd, int budget) {
  if (fd < 0 || fd >= kWindowFds || readWindow[fd] == 0) return budget;
  return readWindow[fd] < budget ? readWindow[fd] : budget;
}

void LearnWindow(int fd, int submitted, int read, int budget) {
  if (fd < 0 || fd >= kWindowFds) return;
  int next = read == submitted ? submitted * 2 : read + 1;
  readWindow[fd] = uint16_t(next < budget ? next : budget);
}

// Submits what is queued and collects every completion into results[user_data].
int SubmitAndReap(int count) {
  io_uring* ring = &threadRing.ring;
  int err;
  do {
    err = io_uring_submit_and_wait(ring, count);
  } while (err == -EINTR);
  if (err < 0) {
    threadRing.Reset();
    return err;
  }
  int seen = 0;
  while (seen < count) {
    io_uring_cqe* cqe;
    err = io_uring_wait_cqe(ring, &cqe);
    if (err == -EINTR) continue;
    if (err < 0) {
      threadRing.Reset();
      return err;
    }
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
  int count = ReadsToSubmit(b.fd, b.count);
  for (int i = 0; i < count; ++i) {
    // The ring has kMaxBatch entries and every batch reaps all it submits, so one is always free.
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
  if (int err = SubmitAndReap(count)) return err;

  int out = 0;
  int firstError = 0;
  for (int i = 0; i < count; ++i) {
    int res = results[i];
    if (res <= 0) {
      if (res < 0 && res != -EAGAIN && !firstError) firstError = res;
      continue;
    }
    // Reads that returned data are packed to the front, each with its slot and header.
    if (out != i) {
      std::swap(b.desc[out * kDescWords + kSlot], b.desc[i * kDescWords + kSlot]);
      std::memcpy(hdr[out], hdr[i], kMaxVnetHdr);
    }
    Received(b, out, size_t(res), false, hdr[out]);
    ++out;
  }
  LearnWindow(b.fd, count, out, b.count);
  return out > 0 ? out : firstError;
}

int UringWriteFrames(const Batch& b, iovec (*iov)[2]) {
  if (int err = threadRing.Ensure()) {
    b.desc[kStatus] = uint32_t(err);
    return 0;
  }
  // Unlinked: a linked chain issues each write only after the previous completes, which measured
  // 20% slower; a failure in the middle is handled by moving the failed frames to the back instead.
  for (int i = 0; i < b.count; ++i) {
    io_uring_sqe* sqe = io_uring_get_sqe(&threadRing.ring);
    if (b.hdrLen) {
      io_uring_prep_writev(sqe, b.fd, iov[i], 2, -1);
    } else {
      io_uring_prep_write(sqe, b.fd, iov[i][1].iov_base, unsigned(iov[i][1].iov_len), -1);
    }
    // A full socket answers EAGAIN at once instead of io_uring parking the write until it drains.
    sqe->rw_flags = RWF_NOWAIT;
    sqe->user_data = uint64_t(i);
  }
  if (int err = SubmitAndReap(b.count)) {
    b.desc[kStatus] = uint32_t(-err);
    return 0;
  }
  int sent = 0;
  int failed = 0;
  for (int i = 0; i < b.count; ++i) {
    uint32_t* d = b.desc + i * kDescWords;
    if (results[i] >= 0) {
      if (sent != i) std::memcpy(b.desc + sent * kDescWords, d, kDescWords * 4);
      ++sent;
    } else {
      std::memcpy(failedDesc + failed * kDescWords, d, kDescWords * 4);
      failedDesc[failed * kDescWords + kStatus] = uint32_t(-results[i]);
      ++failed;
    }
  }
  // What did not go out follows what did, in its original order, each with its errno.
  std::memcpy(b.desc + sent * kDescWords, failedDesc, size_t(failed) * kDescWords * 4);
  return sent;
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
