#include "errors.h"

#include <cerrno>
#include <cstring>

namespace tapswitch {

const char* ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : "EUNKNOWN";
}

namespace {

// The fix a user needs, keyed by what failed; empty when strerror says enough.
std::string Hint(int err, const std::string& syscall) {
  switch (err) {
    case EPERM:
    case EACCES:
      if (syscall == "setns" || syscall == "open netns") return "entering a network namespace needs root (CAP_SYS_ADMIN): run with sudo";
      return "needs root or CAP_NET_ADMIN (and CAP_NET_RAW for AF_PACKET): run with sudo";
    case ENOENT:
      if (syscall == "open /dev/net/tun") return "/dev/net/tun missing: load the tun module (modprobe tun)";
      if (syscall == "open netns") return "no such network namespace: create it with `ip netns add NAME`";
      return "";
    case ENODEV:
      if (syscall == "open /dev/net/tun") return "/dev/net/tun has no driver: load the tun module (modprobe tun)";
      return "no such interface in that network namespace: check `ip link`";
    case ENXIO:
      return "no such interface in that network namespace: check `ip link`";
    case EBUSY:
      if (syscall == "TUNSETIFF") return "an interface of that name exists already, or its TAP is open elsewhere: pick another name";
      return "the interface is busy: another process holds it, or its TAP flags differ";
    case EINVAL:
      if (syscall == "TUNSETIFF")
        return "the name is taken by a device that is not a TAP, or by a TAP opened with other flags "
               "(multi-queue, vnet header): pick another name or delete it with `ip link del`";
      return "";
    case EMFILE:
    case ENFILE:
      return "too many open files: raise the limit with `ulimit -n`";
    case ENAMETOOLONG:
      return "interface names are at most 15 bytes";
    case EAFNOSUPPORT:
      return "the kernel has no AF_PACKET support (CONFIG_PACKET)";
    case ENOPROTOOPT:
      return "the kernel does not support this socket option; it is too old for this feature";
    case ENOSYS:
      return "the kernel does not support this system call";
    default:
      return "";
  }
}

}  // namespace

std::string DescribeErrno(int err, const char* syscall, const std::string& subject) {
  std::string message = std::string(syscall) + " " + subject + ": " + ErrnoName(err) + " (" + std::strerror(err) + ")";
  std::string hint = Hint(err, syscall);
  if (!hint.empty()) message += ": " + hint;
  return message;
}

void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& subject) {
  Napi::Error error = Napi::Error::New(env, DescribeErrno(err, syscall, subject));
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  throw error;
}

void ThrowUsage(Napi::Env env, const std::string& message) {
  Napi::TypeError error = Napi::TypeError::New(env, message);
  error.Set("code", Napi::String::New(env, "ERR_INVALID_ARG"));
  throw error;
}

}  // namespace tapswitch
