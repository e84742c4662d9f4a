#include "wait.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <ctime>

#include "errors.h"
#include "fd.h"

namespace tapswitch {

namespace {

// epoll data for the wake eventfd: a tag above any 32-bit token, with the fd below it.
constexpr uint64_t kWakeTag = uint64_t(1) << 32;
constexpr int kMaxEvents = 64;

}  // namespace

Napi::Value WaiterOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Fd ep(epoll_create1(EPOLL_CLOEXEC));
  if (!ep.valid()) ThrowErrno(env, errno, "epoll_create1", "for a waiter");
  Fd wake(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake.valid()) ThrowErrno(env, errno, "eventfd", "for a waiter");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeTag | uint64_t(wake.get());
  if (epoll_ctl(ep.get(), EPOLL_CTL_ADD, wake.get(), &ev) < 0) ThrowErrno(env, errno, "epoll_ctl", "wake eventfd");
  Napi::Object result = Napi::Object::New(env);
  result.Set("epfd", Napi::Number::New(env, ep.release()));
  result.Set("wakeFd", Napi::Number::New(env, wake.release()));
  return result;
}

Napi::Value WaiterAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int epfd = info[0].As<Napi::Number>().Int32Value();
  int fd = info[1].As<Napi::Number>().Int32Value();
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = info[2].As<Napi::Number>().Uint32Value();
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) ThrowErrno(env, errno, "epoll_ctl ADD", "fd " + std::to_string(fd));
  return env.Undefined();
}

Napi::Value WaiterDel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int epfd = info[0].As<Napi::Number>().Int32Value();
  int fd = info[1].As<Napi::Number>().Int32Value();
  if (epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr) < 0) ThrowErrno(env, errno, "epoll_ctl DEL", "fd " + std::to_string(fd));
  return env.Undefined();
}

// Called once per loop of a worker, so it never throws: a bad argument returns -EINVAL and a failed
// epoll_wait -errno, for the worker to decide what to do.
Napi::Value Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsTypedArray() ||
      info[2].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    return Napi::Number::New(env, -EINVAL);
  int epfd = info[0].As<Napi::Number>().Int32Value();
  double timeoutMs = info[1].As<Napi::Number>().DoubleValue();
  if (std::isnan(timeoutMs)) return Napi::Number::New(env, -EINVAL);
  Napi::Int32Array ready = info[2].As<Napi::Int32Array>();
  size_t room = ready.ElementLength() > 0 ? ready.ElementLength() - 1 : 0;
  if (ready.ElementLength() > 0) ready[0] = 0;

  epoll_event events[kMaxEvents];
  int n;
  // epoll_pwait2 takes nanoseconds, so a frame held until a given microsecond (a delay line's) is
  // not late by the rest of a millisecond; a negative timeout waits without limit.
  timespec ts{};
  timespec* limit = nullptr;
  // A timeout beyond any clock (Infinity) waits without limit, as a negative one does.
  if (timeoutMs >= 0 && std::isfinite(timeoutMs)) {
    double ns = std::floor(timeoutMs * 1e6);
    ts.tv_sec = time_t(ns / 1e9);
    ts.tv_nsec = long(ns - double(ts.tv_sec) * 1e9);
    limit = &ts;
  }
  // Kernels before 5.11 have no epoll_pwait2: there the wait rounds up to whole milliseconds.
  static std::atomic<bool> noPwait2{false};
  do {
    if (!noPwait2.load(std::memory_order_relaxed)) {
      n = epoll_pwait2(epfd, events, kMaxEvents, limit, nullptr);
      if (n < 0 && errno == ENOSYS) {
        noPwait2.store(true, std::memory_order_relaxed);
        errno = EINTR;
      }
    } else {
      int ms = limit == nullptr ? -1 : int(std::min(std::ceil(timeoutMs), double(INT32_MAX)));
      n = epoll_wait(epfd, events, kMaxEvents, ms);
    }
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Napi::Number::New(env, -errno);

  int mask = kWaitTimeout;
  size_t count = 0;
  for (int i = 0; i < n; ++i) {
    uint64_t data = events[i].data.u64;
    if (data & kWakeTag) {
      uint64_t drained;
      // Reading resets the counter, so one wake is reported once however many threads asked.
      (void)!read(int(uint32_t(data)), &drained, sizeof drained);
      mask |= kWaitWoken;
    } else {
      mask |= kWaitReadable;
      if (count < room) ready[1 + count++] = int32_t(uint32_t(data));
    }
  }
  if (ready.ElementLength() > 0) ready[0] = int32_t(count);
  return Napi::Number::New(env, mask);
}

// Called for each command and memory-port frame, from any thread: returns 0 or -errno, never throws.
Napi::Value Wake(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return Napi::Number::New(env, -EINVAL);
  int fd = info[0].As<Napi::Number>().Int32Value();
  uint64_t one = 1;
  // EAGAIN: the counter is at its limit, so the waiter is woken already.
  if (write(fd, &one, sizeof one) < 0 && errno != EAGAIN) return Napi::Number::New(env, -errno);
  return Napi::Number::New(env, 0);
}

}  // namespace tapswitch
