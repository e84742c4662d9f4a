// TAP devices: TUNSETIFF with IFF_NO_PI, optional virtio header with offloads, optional multi-queue,
// optionally persistent (the device outlives its fds) and optionally opened in another namespace,
// which is how a restarted switch joins the persistent TAP it had moved into a namespace before.
#include "tap.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "errors.h"
#include "fd.h"
#include "netns.h"

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

namespace tapswitch {

namespace {

constexpr int kMaxQueues = 256;  // MAX_TAP_QUEUES in drivers/net/tun.c

struct TapRequest {
  std::string name;
  std::string netnsPath;  // empty: the caller's namespace
  int queues = 1;
  bool multiQueue = false;
  int vnetHdrSize = 0;
  unsigned offloads = 0;
  bool existing = false;  // join a persistent TAP of this name instead of creating one
  bool persist = false;
};

struct TapResult {
  std::vector<Fd> fds;
  std::string name;
  int negotiated = 0;
  int err = 0;
  const char* syscall = "";
};

bool Fail(TapResult& r, const char* syscall, int err = errno) {
  r.err = err;
  r.syscall = syscall;
  r.fds.clear();
  return false;
}

// Asks for `wanted`; kernels without UDP segmentation offload refuse USO, so retry without it.
int NegotiateOffload(int fd, unsigned wanted) {
  if (ioctl(fd, TUNSETOFFLOAD, wanted) == 0) return int(wanted);
  if (errno == EINVAL && (wanted & (TUN_F_USO4 | TUN_F_USO6))) {
    unsigned without = wanted & ~unsigned(TUN_F_USO4 | TUN_F_USO6);
    if (ioctl(fd, TUNSETOFFLOAD, without) == 0) return int(without);
  }
  return -1;
}

// Sets up the device on its first queue: virtio header, offloads, and persistence owned by this user.
bool SetUpDevice(const TapRequest& q, int fd, TapResult& r) {
  if (q.existing) {
    // Without IFF_TUN_EXCL, TUNSETIFF creates a device when the one asked for vanished meanwhile;
    // such a device is not persistent, and closing the fd deletes it again.
    struct ifreq now;
    std::memset(&now, 0, sizeof now);
    if (ioctl(fd, TUNGETIFF, &now) < 0) return Fail(r, "TUNGETIFF");
    if (!(now.ifr_flags & IFF_PERSIST)) return Fail(r, "TUNSETIFF", ENODEV);
  }
  if (q.vnetHdrSize) {
    int size = q.vnetHdrSize;
    if (ioctl(fd, TUNSETVNETHDRSZ, &size) < 0) return Fail(r, "TUNSETVNETHDRSZ");
    r.negotiated = NegotiateOffload(fd, q.offloads);
    if (r.negotiated < 0) return Fail(r, "TUNSETOFFLOAD");
  }
  if (q.persist) {
    if (ioctl(fd, TUNSETOWNER, static_cast<unsigned long>(geteuid())) < 0) return Fail(r, "TUNSETOWNER");
    if (ioctl(fd, TUNSETPERSIST, 1UL) < 0) return Fail(r, "TUNSETPERSIST");
  }
  return true;
}

// Runs in whichever thread is in the target namespace: /dev/net/tun binds a queue to the namespace
// of the thread that opened it, and TUNSETIFF finds or creates the device by name there.
bool OpenInCurrentNamespace(const TapRequest& q, TapResult& r) {
  if (q.existing && if_nametoindex(q.name.c_str()) == 0) return Fail(r, "if_nametoindex");
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (q.vnetHdrSize) ifr.ifr_flags |= IFF_VNET_HDR;
  if (q.multiQueue) ifr.ifr_flags |= IFF_MULTI_QUEUE;
  std::strncpy(ifr.ifr_name, q.name.c_str(), IFNAMSIZ - 1);
  for (int i = 0; i < q.queues; ++i) {
    // The first queue of a new device must create it: joining someone else's TAP of the same name
    // would change its virtio header size under it. Later queues attach to the device just made.
    bool exclusive = i == 0 && !q.existing;
    ifr.ifr_flags = short(exclusive ? (ifr.ifr_flags | IFF_TUN_EXCL) : (ifr.ifr_flags & ~IFF_TUN_EXCL));
    Fd fd(open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) return Fail(r, "open /dev/net/tun");
    if (ioctl(fd.get(), TUNSETIFF, &ifr) < 0) return Fail(r, "TUNSETIFF");
    // The kernel fills in the final name; later queues attach to the same device by it.
    r.name = ifr.ifr_name;
    r.fds.push_back(std::move(fd));
    if (i == 0 && !SetUpDevice(q, r.fds[0].get(), r)) return false;
  }
  return true;
}

}  // namespace

Napi::Value OpenTap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) ThrowUsage(env, "openTap(options) needs an options object");
  Napi::Object opts = info[0].As<Napi::Object>();

  TapRequest q;
  q.name = opts.Has("name") && opts.Get("name").IsString() ? opts.Get("name").As<Napi::String>().Utf8Value() : "";
  if (q.name.size() >= IFNAMSIZ) ThrowUsage(env, "TAP name \"" + q.name + "\" is longer than 15 bytes");
  q.queues = opts.Has("queues") ? opts.Get("queues").ToNumber().Int32Value() : 1;
  if (q.queues < 1 || q.queues > kMaxQueues) ThrowUsage(env, "queues must be between 1 and 256");
  q.multiQueue = q.queues > 1 || (opts.Has("multiQueue") && opts.Get("multiQueue").ToBoolean().Value());
  q.vnetHdrSize = opts.Has("vnetHdrSize") ? opts.Get("vnetHdrSize").ToNumber().Int32Value() : 0;
  if (q.vnetHdrSize != 0 && q.vnetHdrSize != 10 && q.vnetHdrSize != 12) ThrowUsage(env, "vnetHdrSize must be 0, 10 or 12");
  q.offloads = opts.Has("offloads") ? opts.Get("offloads").ToNumber().Uint32Value() : 0;
  if (q.offloads && !q.vnetHdrSize) ThrowUsage(env, "offloads need a virtio header: set vnetHdrSize to 10 or 12");
  if (opts.Get("netns").IsString()) q.netnsPath = NamespacePath(opts.Get("netns").As<Napi::String>().Utf8Value());
  q.existing = opts.Get("existing").ToBoolean().Value();
  if (q.existing && q.name.empty()) ThrowUsage(env, "an existing TAP is joined by its name");
  q.persist = opts.Get("persist").ToBoolean().Value();

  TapResult r;
  if (q.netnsPath.empty()) {
    OpenInCurrentNamespace(q, r);
  } else {
    NamespaceError entering = RunInNamespace(q.netnsPath, [&] { OpenInCurrentNamespace(q, r); });
    if (entering.err) Fail(r, entering.syscall, entering.err);
  }
  if (r.err) {
    std::string subject = q.name.empty() ? "(kernel-chosen name)" : q.name;
    ThrowErrno(env, r.err, r.syscall, subject + (q.netnsPath.empty() ? "" : " in " + q.netnsPath));
  }

  Napi::Object result = Napi::Object::New(env);
  Napi::Array fdArray = Napi::Array::New(env, r.fds.size());
  for (size_t i = 0; i < r.fds.size(); ++i) fdArray.Set(uint32_t(i), Napi::Number::New(env, r.fds[i].release()));
  result.Set("name", Napi::String::New(env, r.name));
  result.Set("fds", fdArray);
  result.Set("vnetHdrSize", Napi::Number::New(env, q.vnetHdrSize));
  result.Set("offloads", Napi::Number::New(env, r.negotiated));
  result.Set("multiQueue", Napi::Boolean::New(env, q.multiQueue));
  return result;
}

}  // namespace tapswitch
