// AF_PACKET sockets bound to one interface, opened in any network namespace.
#include "packet_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>

#include "errors.h"
#include "fd.h"

namespace tapswitch {

namespace {

struct PacketRequest {
  std::string ifname;
  std::string netnsPath;  // empty: the caller's namespace
  int fanout = -1;        // PACKET_FANOUT argument: group | (type | flags) << 16
  bool vnetHdr = false;
  bool ignoreOutgoing = false;
  bool promisc = false;
  bool qdiscBypass = false;
  int rcvbuf = 0;
  int sndbuf = 0;
};

struct PacketResult {
  Fd fd;
  int ifindex = 0;
  int err = 0;
  const char* syscall = "";
};

bool Fail(PacketResult& r, const char* syscall) {
  r.err = errno;
  r.syscall = syscall;
  r.fd.reset();
  return false;
}

bool SetInt(PacketResult& r, int level, int option, int value, const char* what) {
  if (setsockopt(r.fd.get(), level, option, &value, sizeof value) < 0) return Fail(r, what);
  return true;
}

// Runs in whichever thread is in the target namespace; a socket keeps its namespace for life.
bool OpenInCurrentNamespace(const PacketRequest& q, PacketResult& r) {
  // Protocol 0 until bound, so no frame of another interface is queued before bind.
  r.fd = Fd(socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!r.fd.valid()) return Fail(r, "socket AF_PACKET");
  r.ifindex = int(if_nametoindex(q.ifname.c_str()));
  if (r.ifindex == 0) return Fail(r, "if_nametoindex");
  if (q.vnetHdr && !SetInt(r, SOL_PACKET, PACKET_VNET_HDR, 1, "setsockopt PACKET_VNET_HDR")) return false;
  // The kernel takes a VLAN tag off the frame before a packet socket sees it; the auxdata tells
  // recvmmsg what it took (an io_uring read gets no auxdata, and so sees no tag).
  if (!SetInt(r, SOL_PACKET, PACKET_AUXDATA, 1, "setsockopt PACKET_AUXDATA")) return false;
  if (q.ignoreOutgoing && !SetInt(r, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1, "setsockopt PACKET_IGNORE_OUTGOING"))
    return false;
  if (q.qdiscBypass && !SetInt(r, SOL_PACKET, PACKET_QDISC_BYPASS, 1, "setsockopt PACKET_QDISC_BYPASS")) return false;
  if (q.rcvbuf > 0 && !SetInt(r, SOL_SOCKET, SO_RCVBUFFORCE, q.rcvbuf, "setsockopt SO_RCVBUFFORCE")) return false;
  if (q.sndbuf > 0 && !SetInt(r, SOL_SOCKET, SO_SNDBUFFORCE, q.sndbuf, "setsockopt SO_SNDBUFFORCE")) return false;

  sockaddr_ll addr;
  std::memset(&addr, 0, sizeof addr);
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(ETH_P_ALL);
  addr.sll_ifindex = r.ifindex;
  if (bind(r.fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return Fail(r, "bind AF_PACKET");

  if (q.promisc) {
    packet_mreq mreq;
    std::memset(&mreq, 0, sizeof mreq);
    mreq.mr_ifindex = r.ifindex;
    mreq.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(r.fd.get(), SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof mreq) < 0)
      return Fail(r, "setsockopt PACKET_ADD_MEMBERSHIP");
  }
  // Fanout joins after bind: the group takes the socket's bound device and protocol.
  if (q.fanout >= 0 && !SetInt(r, SOL_PACKET, PACKET_FANOUT, q.fanout, "setsockopt PACKET_FANOUT")) return false;
  return true;
}

void OpenInNamespace(const PacketRequest& q, PacketResult& r) {
  Fd ns(open(q.netnsPath.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) {
    Fail(r, "open netns");
    return;
  }
  // setns changes only this thread, which exists for this call alone.
  if (setns(ns.get(), CLONE_NEWNET) < 0) {
    Fail(r, "setns");
    return;
  }
  OpenInCurrentNamespace(q, r);
}

std::string NetnsPath(const std::string& netns) {
  if (netns.find('/') != std::string::npos) return netns;
  return "/run/netns/" + netns;
}

}  // namespace

Napi::Value OpenPacket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) ThrowUsage(env, "openPacket(options) needs an options object");
  Napi::Object opts = info[0].As<Napi::Object>();
  if (!opts.Get("ifname").IsString()) ThrowUsage(env, "openPacket needs ifname");

  PacketRequest q;
  q.ifname = opts.Get("ifname").As<Napi::String>().Utf8Value();
  if (q.ifname.empty() || q.ifname.size() >= IFNAMSIZ) ThrowUsage(env, "ifname must be 1 to 15 bytes");
  if (opts.Get("netns").IsString()) q.netnsPath = NetnsPath(opts.Get("netns").As<Napi::String>().Utf8Value());
  if (opts.Get("fanout").IsNumber()) q.fanout = opts.Get("fanout").As<Napi::Number>().Int32Value();
  q.vnetHdr = opts.Get("vnetHdr").ToBoolean().Value();
  q.ignoreOutgoing = opts.Get("ignoreOutgoing").ToBoolean().Value();
  q.promisc = opts.Get("promisc").ToBoolean().Value();
  q.qdiscBypass = opts.Get("qdiscBypass").ToBoolean().Value();
  if (opts.Get("rcvbuf").IsNumber()) q.rcvbuf = opts.Get("rcvbuf").As<Napi::Number>().Int32Value();
  if (opts.Get("sndbuf").IsNumber()) q.sndbuf = opts.Get("sndbuf").As<Napi::Number>().Int32Value();

  PacketResult r;
  if (q.netnsPath.empty()) {
    OpenInCurrentNamespace(q, r);
  } else {
    try {
      std::thread opener(OpenInNamespace, std::cref(q), std::ref(r));
      opener.join();
    } catch (const std::system_error& e) {
      ThrowErrno(env, e.code().value(), "std::thread", "to enter " + q.netnsPath);
    }
  }
  if (r.err) {
    std::string subject = "on " + q.ifname + (q.netnsPath.empty() ? "" : " in " + q.netnsPath);
    ThrowErrno(env, r.err, r.syscall, subject);
  }

  Napi::Object result = Napi::Object::New(env);
  result.Set("fd", Napi::Number::New(env, r.fd.release()));
  result.Set("ifindex", Napi::Number::New(env, r.ifindex));
  result.Set("vnetHdrSize", Napi::Number::New(env, q.vnetHdr ? 10 : 0));
  return result;
}

Napi::Value PacketStatistics(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) ThrowUsage(env, "packetStatistics(fd) needs an fd");
  // A socket without a ring (TPACKET_V1, as ours) answers with struct tpacket_stats; tp_packets
  // includes tp_drops. The kernel zeroes both under the queue's lock as it copies them.
  tpacket_stats st;
  std::memset(&st, 0, sizeof st);
  socklen_t len = sizeof st;
  if (getsockopt(info[0].As<Napi::Number>().Int32Value(), SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
    return Napi::Number::New(env, -errno);
  Napi::Object result = Napi::Object::New(env);
  result.Set("packets", Napi::Number::New(env, st.tp_packets));
  result.Set("drops", Napi::Number::New(env, st.tp_drops));
  return result;
}

}  // namespace tapswitch
