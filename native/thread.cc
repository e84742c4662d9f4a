#include "thread.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "errors.h"

namespace tapswitch {

Napi::Value PinThread(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int cpu = info[0].As<Napi::Number>().Int32Value();
  if (cpu < 0 || cpu >= CPU_SETSIZE) ThrowUsage(env, "pinThread: cpu out of range");
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  int err = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  if (err) ThrowErrno(env, err, "pthread_setaffinity_np", "cpu " + std::to_string(cpu));
  return env.Undefined();
}

// Names the calling thread as ps, top -H and perf show it; the kernel keeps at most 15 bytes.
Napi::Value NameThread(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>().Utf8Value().substr(0, 15);
  int err = pthread_setname_np(pthread_self(), name.c_str());
  if (err) ThrowErrno(env, err, "pthread_setname_np", name);
  return env.Undefined();
}

Napi::Value SetNonBlocking(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  bool on = info[1].ToBoolean().Value();
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) ThrowErrno(env, errno, "fcntl F_GETFL", "fd " + std::to_string(fd));
  flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  if (fcntl(fd, F_SETFL, flags) < 0) ThrowErrno(env, errno, "fcntl F_SETFL", "fd " + std::to_string(fd));
  return env.Undefined();
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  // Linux releases the fd even when close reports EINTR, so a retry could close someone else's.
  if (close(fd) < 0 && errno != EINTR) ThrowErrno(env, errno, "close", "fd " + std::to_string(fd));
  return env.Undefined();
}

// The calling thread's kernel id (gettid), as /proc/self/task lists threads.
Napi::Value CurrentThreadId(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(syscall(SYS_gettid)));
}

// Sets one thread's nice value; on Linux PRIO_PROCESS with a thread id applies to that thread alone.
Napi::Value SetThreadNice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int tid = info[0].As<Napi::Number>().Int32Value();
  int nice = info[1].As<Napi::Number>().Int32Value();
  if (setpriority(PRIO_PROCESS, id_t(tid), nice) < 0) ThrowErrno(env, errno, "setpriority", "thread " + std::to_string(tid));
  return env.Undefined();
}

// Two connected datagram sockets, non-blocking: each read or write moves one whole frame, as on a
// TAP, with no device and no network behind them (a worker's warm-up forwards frames through them).
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0) ThrowErrno(env, errno, "socketpair", "AF_UNIX SOCK_DGRAM");
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(uint32_t(0), Napi::Number::New(env, fds[0]));
  pair.Set(uint32_t(1), Napi::Number::New(env, fds[1]));
  return pair;
}

}  // namespace tapswitch
