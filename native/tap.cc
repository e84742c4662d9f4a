// TAP devices: TUNSETIFF with IFF_NO_PI, optional virtio header with offloads, optional multi-queue.
#include "tap.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "errors.h"
#include "fd.h"

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

namespace tapswitch {

namespace {

constexpr int kMaxQueues = 256;  // MAX_TAP_QUEUES in drivers/net/tun.c

// Asks for `wanted`; kernels without UDP segmentation offload refuse USO, so retry without it.
int NegotiateOffload(int fd, unsigned wanted) {
  if (ioctl(fd, TUNSETOFFLOAD, wanted) == 0) return int(wanted);
  if (errno == EINVAL && (wanted & (TUN_F_USO4 | TUN_F_USO6))) {
    unsigned without = wanted & ~unsigned(TUN_F_USO4 | TUN_F_USO6);
    if (ioctl(fd, TUNSETOFFLOAD, without) == 0) return int(without);
  }
  return -1;
}

}  // namespace

Napi::Value OpenTap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) ThrowUsage(env, "openTap(options) needs an options object");
  Napi::Object opts = info[0].As<Napi::Object>();

  std::string name = opts.Has("name") && opts.Get("name").IsString() ? opts.Get("name").As<Napi::String>().Utf8Value() : "";
  if (name.size() >= IFNAMSIZ) ThrowUsage(env, "TAP name \"" + name + "\" is longer than 15 bytes");
  int queues = opts.Has("queues") ? opts.Get("queues").ToNumber().Int32Value() : 1;
  if (queues < 1 || queues > kMaxQueues) ThrowUsage(env, "queues must be between 1 and 256");
  bool multiQueue = queues > 1 || (opts.Has("multiQueue") && opts.Get("multiQueue").ToBoolean().Value());
  int vnetHdrSize = opts.Has("vnetHdrSize") ? opts.Get("vnetHdrSize").ToNumber().Int32Value() : 0;
  if (vnetHdrSize != 0 && vnetHdrSize != 10 && vnetHdrSize != 12) ThrowUsage(env, "vnetHdrSize must be 0, 10 or 12");
  unsigned offloads = opts.Has("offloads") ? opts.Get("offloads").ToNumber().Uint32Value() : 0;
  if (offloads && !vnetHdrSize) ThrowUsage(env, "offloads need a virtio header: set vnetHdrSize to 10 or 12");

  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (vnetHdrSize) ifr.ifr_flags |= IFF_VNET_HDR;
  if (multiQueue) ifr.ifr_flags |= IFF_MULTI_QUEUE;
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);

  std::vector<Fd> fds;
  int negotiated = 0;
  for (int q = 0; q < queues; ++q) {
    // The first queue must create the device: joining someone else's TAP of the same name would
    // change its virtio header size under it. Later queues attach to the device just made.
    ifr.ifr_flags = short(q == 0 ? (ifr.ifr_flags | IFF_TUN_EXCL) : (ifr.ifr_flags & ~IFF_TUN_EXCL));
    Fd fd(open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) ThrowErrno(env, errno, "open /dev/net/tun", name.empty() ? "for a new TAP" : "for TAP " + name);
    if (ioctl(fd.get(), TUNSETIFF, &ifr) < 0) {
      ThrowErrno(env, errno, "TUNSETIFF", name.empty() ? "(kernel-chosen name)" : name);
    }
    // The kernel fills in the final name; later queues attach to the same device by it.
    name = ifr.ifr_name;
    if (q == 0 && vnetHdrSize) {
      if (ioctl(fd.get(), TUNSETVNETHDRSZ, &vnetHdrSize) < 0) ThrowErrno(env, errno, "TUNSETVNETHDRSZ", name);
      negotiated = NegotiateOffload(fd.get(), offloads);
      if (negotiated < 0) ThrowErrno(env, errno, "TUNSETOFFLOAD", name);
    }
    fds.push_back(std::move(fd));
  }

  Napi::Object result = Napi::Object::New(env);
  Napi::Array fdArray = Napi::Array::New(env, fds.size());
  for (size_t i = 0; i < fds.size(); ++i) fdArray.Set(uint32_t(i), Napi::Number::New(env, fds[i].release()));
  result.Set("name", Napi::String::New(env, name));
  result.Set("fds", fdArray);
  result.Set("vnetHdrSize", Napi::Number::New(env, vnetHdrSize));
  result.Set("offloads", Napi::Number::New(env, negotiated));
  result.Set("multiQueue", Napi::Boolean::New(env, multiQueue));
  return result;
}

}  // namespace tapswitch
