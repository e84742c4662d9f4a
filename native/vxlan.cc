// VXLAN tunnels (RFC 7348).
//
// Theory of operation. A tunnel is the sockets of one VXLAN port and its MAC -> VTEP table, the
// kernel vxlan device's own FDB: the switch's FDB says a MAC is behind the VXLAN port, this table
// says behind which remote VTEP. Each worker reads its own UDP socket bound to the VXLAN port
// (SO_REUSEPORT, so the kernel keeps each outer flow on one worker); recvmmsg puts each
// datagram's 8-byte VXLAN header in scratch and the inner frame at its slot's start, and gives the
// sender's address, against which the inner source MAC is learned. Sending goes through a small
// set of sockets bound to ephemeral ports: a hash of the inner flow picks the socket, so its
// source port spreads flows over ECMP paths as RFC 7348 asks, while the kernel still builds the
// IP and UDP headers and its checksum (offloaded where the device can). The VXLAN header is one
// constant 8 bytes per tunnel, the first iovec of every datagram. A frame to a MAC the table
// knows goes to that VTEP; any other (broadcast, multicast, unknown unicast) to every remote.
#include "vxlan.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "descriptor.h"
#include "errors.h"
#include "fd.h"
#include "netns.h"

namespace tapswitch {

namespace {

constexpr size_t kHeaderBytes = 8;
constexpr size_t kEthBytes = 14;
constexpr uint8_t kFlagVni = 0x08;
// Sockets a tunnel sends from: this many source ports for ECMP to spread flows over.
constexpr int kSenders = 8;
constexpr int kMaxRemotes = 64;
// The MAC -> VTEP table: open addressing over a power of two, probed this far.
constexpr uint32_t kTableSize = 4096;
constexpr uint32_t kProbe = 16;
// A learned entry is forgotten after this long without a frame, as the kernel vxlan's ageing.
constexpr uint32_t kAgeSeconds = 300;
constexpr int kMaxFds = 4096;
// Datagrams one sendmmsg takes: a batch with every frame flooded to many remotes goes in several.
constexpr int kMaxMessages = 1024;

enum EntryState : uint8_t { kEmpty = 0, kLearned = 1, kStatic = 2, kDeleted = 3 };

struct Entry {
  uint64_t mac;
  uint32_t dst;  // network order
  uint32_t seen;
  uint8_t state;
};

struct Tunnel {
  std::mutex lock;
  uint32_t vni = 0;
  uint16_t port = 0;  // network order
  bool learning = true;
  uint8_t header[kHeaderBytes] = {};
  std::vector<int> rxFds;
  int senders[kSenders] = {};
  uint32_t remotes[kMaxRemotes] = {};
  int remoteCount = 0;
  // The VTEPs a frame may come from when learning is off: the remotes and the static entries' dsts.
  std::vector<uint32_t> known;
  Entry table[kTableSize] = {};
};

std::atomic<Tunnel*> byFd[kMaxFds];
std::mutex registry;

struct RxScratch {
  uint8_t hdr[kMaxBatch][kHeaderBytes];
  iovec iov[kMaxBatch][2];
  mmsghdr msgs[kMaxBatch];
  sockaddr_in from[kMaxBatch];
};
thread_local RxScratch rx;

struct TxScratch {
  iovec iov[kMaxMessages][2];
  mmsghdr msgs[kMaxMessages];
  sockaddr_in to[kMaxMessages];
  int frameOf[kMaxMessages];
};
thread_local TxScratch tx;

uint32_t Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return uint32_t(ts.tv_sec);
}

uint64_t MacAt(const uint8_t* p) {
  uint64_t mac = 0;
  for (int k = 0; k < 6; ++k) mac = mac << 8 | p[k];
  return mac;
}

uint32_t Bucket(uint64_t mac) {
  uint64_t h = mac * 0x9e3779b97f4a7c15ull;
  return uint32_t(h >> 40) & (kTableSize - 1);
}

// The entry for `mac`, or null.
Entry* Find(Tunnel& t, uint64_t mac) {
  uint32_t at = Bucket(mac);
  for (uint32_t k = 0; k < kProbe; ++k) {
    Entry& e = t.table[(at + k) & (kTableSize - 1)];
    if (e.state == kEmpty) return nullptr;
    if (e.state != kDeleted && e.mac == mac) return &e;
  }
  return nullptr;
}

bool Fresh(const Entry& e, uint32_t now) { return e.state == kStatic || now - e.seen < kAgeSeconds; }

// Where `mac` may be written: its entry, a free place in its probe run, or the stalest learned one there.
Entry* Place(Tunnel& t, uint64_t mac, uint32_t now) {
  if (Entry* e = Find(t, mac)) return e;
  uint32_t at = Bucket(mac);
  Entry* stalest = nullptr;
  for (uint32_t k = 0; k < kProbe; ++k) {
    Entry& e = t.table[(at + k) & (kTableSize - 1)];
    if (e.state == kEmpty || e.state == kDeleted || (e.state == kLearned && !Fresh(e, now))) return &e;
    if (e.state == kLearned && (stalest == nullptr || e.seen < stalest->seen)) stalest = &e;
  }
  return stalest;
}

void Learn(Tunnel& t, uint64_t mac, uint32_t dst, uint32_t now) {
  Entry* e = Find(t, mac);
  if (e != nullptr && e->state == kStatic) return;
  if (e != nullptr && e->dst == dst && e->seen == now) return;
  e = e != nullptr ? e : Place(t, mac, now);
  if (e == nullptr) return;
  *e = Entry{mac, dst, now, kLearned};
}

bool Known(const Tunnel& t, uint32_t addr) {
  for (uint32_t k : t.known)
    if (k == addr) return true;
  return false;
}

void RecomputeKnown(Tunnel& t) {
  t.known.assign(t.remotes, t.remotes + t.remoteCount);
  for (const Entry& e : t.table)
    if (e.state == kStatic && !Known(t, e.dst)) t.known.push_back(e.dst);
}

Tunnel* TunnelOf(int fd) { return fd >= 0 && fd < kMaxFds ? byFd[fd].load(std::memory_order_acquire) : nullptr; }

// A hash of the inner flow: its MACs, and for IPv4 its addresses, protocol and ports.
uint32_t FlowHash(const uint8_t* f, uint32_t len) {
  uint32_t h = 2166136261u;
  auto mix = [&](const uint8_t* p, size_t n) {
    for (size_t k = 0; k < n; ++k) h = (h ^ p[k]) * 16777619u;
  };
  mix(f, 12);
  if (len >= kEthBytes + 20 && f[12] == 0x08 && f[13] == 0x00) {
    const uint8_t* ip = f + kEthBytes;
    mix(ip + 9, 1);
    mix(ip + 12, 8);
    uint32_t ihl = uint32_t(ip[0] & 0x0f) * 4;
    bool firstFragment = ((ip[6] & 0x1f) | ip[7]) == 0;
    if ((ip[9] == IPPROTO_TCP || ip[9] == IPPROTO_UDP) && firstFragment && len >= kEthBytes + ihl + 4) mix(ip + ihl, 4);
  }
  return h ^ h >> 16;
}

void Received(const Batch& b, Tunnel& t, int i, const uint8_t* frame, uint32_t now) {
  uint32_t* d = b.desc + i * kDescWords;
  const mmsghdr& m = rx.msgs[i];
  size_t bytes = m.msg_len;
  bool truncated = m.msg_hdr.msg_flags & MSG_TRUNC;
  ClearVnet(d);
  d[kStatus] = 0;
  d[kLength] = bytes > kHeaderBytes ? uint32_t(bytes - kHeaderBytes) : 0;
  if (truncated || d[kLength] > b.slotSize) {
    d[kLength] = b.slotSize;
    d[kStatus] = EMSGSIZE;
    return;
  }
  const uint8_t* h = rx.hdr[i];
  uint32_t vni = uint32_t(h[4]) << 16 | uint32_t(h[5]) << 8 | h[6];
  uint32_t from = rx.from[i].sin_addr.s_addr;
  if (bytes < kHeaderBytes + kEthBytes) {
    d[kStatus] = kStatusVxlanShort;
  } else if (h[0] != kFlagVni) {
    d[kStatus] = kStatusVxlanFlags;
  } else if (vni != t.vni) {
    d[kStatus] = kStatusVxlanVni;
  } else if (t.learning) {
    // A multicast source is no station: nothing to learn.
    if ((frame[6] & 1) == 0) Learn(t, MacAt(frame + 6), from, now);
  } else if (!Known(t, from)) {
    d[kStatus] = kStatusVxlanUnknownVtep;
  }
}

// Sends the datagrams gathered so far from `fd`; returns -1, or the batch index of the frame whose
// datagram failed, with its errno in that frame's status word.
int Flush(const Batch& b, int fd, int& count) {
  int sent = 0;
  while (sent < count) {
    int n = sendmmsg(fd, tx.msgs + sent, unsigned(count - sent), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      int frame = tx.frameOf[sent];
      b.desc[frame * kDescWords + kStatus] = uint32_t(errno);
      count = 0;
      return frame;
    }
    sent += n;
  }
  count = 0;
  return -1;
}

void AddMessage(Tunnel& t, int& count, int frame, uint8_t* data, uint32_t len, uint32_t dst) {
  iovec* iov = tx.iov[count];
  iov[0].iov_base = t.header;
  iov[0].iov_len = kHeaderBytes;
  iov[1].iov_base = data;
  iov[1].iov_len = len;
  sockaddr_in& to = tx.to[count];
  to = sockaddr_in{};
  to.sin_family = AF_INET;
  to.sin_port = t.port;
  to.sin_addr.s_addr = dst;
  msghdr& m = tx.msgs[count].msg_hdr;
  m = msghdr{};
  m.msg_name = &to;
  m.msg_namelen = sizeof to;
  m.msg_iov = iov;
  m.msg_iovlen = 2;
  tx.frameOf[count] = frame;
  ++count;
}

}  // namespace

int VxlanReceive(const Batch& b, const uint32_t* slot) {
  Tunnel* t = TunnelOf(b.fd);
  if (t == nullptr) return -EBADF;
  for (int i = 0; i < b.count; ++i) {
    iovec* iov = rx.iov[i];
    iov[0].iov_base = rx.hdr[i];
    iov[0].iov_len = kHeaderBytes;
    iov[1].iov_base = b.pool + size_t(slot[i]) * b.slotSize;
    iov[1].iov_len = b.slotSize;
    msghdr& m = rx.msgs[i].msg_hdr;
    m = msghdr{};
    m.msg_name = &rx.from[i];
    m.msg_namelen = sizeof rx.from[i];
    m.msg_iov = iov;
    m.msg_iovlen = 2;
  }
  int n;
  do {
    n = recvmmsg(b.fd, rx.msgs, unsigned(b.count), MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EAGAIN ? 0 : -errno;
  uint32_t now = Now();
  std::lock_guard<std::mutex> hold(t->lock);
  for (int i = 0; i < n; ++i) Received(b, *t, i, b.pool + size_t(slot[i]) * b.slotSize, now);
  return n;
}

int VxlanSend(const Batch& b, const uint32_t* slot, const uint32_t* len) {
  Tunnel* t = TunnelOf(b.fd);
  if (t == nullptr) {
    b.desc[kStatus] = EBADF;
    return 0;
  }
  uint32_t now = Now();
  std::lock_guard<std::mutex> hold(t->lock);
  int count = 0;
  int fd = -1;
  for (int i = 0; i < b.count; ++i) {
    uint8_t* frame = b.pool + size_t(slot[i]) * b.slotSize;
    uint32_t l = len[i];
    if (l < kEthBytes) {
      int failed = Flush(b, fd, count);
      if (failed >= 0) return failed;
      b.desc[i * kDescWords + kStatus] = EINVAL;
      return i;
    }
    b.desc[i * kDescWords + kStatus] = 0;
    const Entry* e = (frame[0] & 1) == 0 ? Find(*t, MacAt(frame)) : nullptr;
    bool unicast = e != nullptr && Fresh(*e, now);
    int wanted = unicast ? 1 : t->remoteCount;
    int from = t->senders[FlowHash(frame, l) % kSenders];
    if (count > 0 && (from != fd || count + wanted > kMaxMessages)) {
      int failed = Flush(b, fd, count);
      if (failed >= 0) return failed;
    }
    fd = from;
    if (unicast) {
      AddMessage(*t, count, i, frame, l, e->dst);
    } else {
      for (int r = 0; r < t->remoteCount; ++r) AddMessage(*t, count, i, frame, l, t->remotes[r]);
    }
  }
  int failed = Flush(b, fd, count);
  return failed >= 0 ? failed : b.count;
}

namespace {

struct OpenRequest {
  std::string netnsPath;
  uint32_t local = 0;  // network order
  uint16_t port = 0;   // network order
  int workers = 1;
  bool checksum = true;
};

struct OpenResult {
  std::vector<Fd> rx;
  std::vector<Fd> senders;
  int underlayMtu = 0;
  int err = 0;
  const char* syscall = "";
};

bool Fail(OpenResult& r, const char* syscall) {
  r.err = errno;
  r.syscall = syscall;
  return false;
}

bool Bound(OpenResult& r, Fd& fd, uint32_t addr, uint16_t port, bool reuse, bool rx, bool checksum) {
  fd = Fd(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Fail(r, "socket AF_INET");
  int one = 1;
  int buffer = 4 << 20;
  if (reuse && setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) return Fail(r, "setsockopt SO_REUSEPORT");
  if (setsockopt(fd.get(), SOL_SOCKET, rx ? SO_RCVBUFFORCE : SO_SNDBUFFORCE, &buffer, sizeof buffer) < 0)
    return Fail(r, rx ? "setsockopt SO_RCVBUFFORCE" : "setsockopt SO_SNDBUFFORCE");
  if (!checksum && setsockopt(fd.get(), SOL_SOCKET, SO_NO_CHECK, &one, sizeof one) < 0) return Fail(r, "setsockopt SO_NO_CHECK");
  // Datagrams leave with DF clear, as the kernel vxlan's do by default.
  int pmtu = IP_PMTUDISC_DONT;
  if (setsockopt(fd.get(), IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu) < 0) return Fail(r, "setsockopt IP_MTU_DISCOVER");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = addr;
  a.sin_port = port;
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) return Fail(r, "bind UDP");
  return true;
}

// The MTU of the interface that holds `local`, or 0 when none does.
int UnderlayMtu(int fd, uint32_t local) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) < 0) return 0;
  int mtu = 0;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    if (reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr != local) continue;
    ifreq req{};
    std::strncpy(req.ifr_name, a->ifa_name, IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFMTU, &req) == 0) mtu = req.ifr_mtu;
    break;
  }
  freeifaddrs(list);
  return mtu;
}

void OpenInCurrentNamespace(const OpenRequest& q, OpenResult& r) {
  r.rx.resize(q.workers);
  for (Fd& fd : r.rx)
    if (!Bound(r, fd, q.local, q.port, true, true, true)) return;
  r.senders.resize(kSenders);
  for (Fd& fd : r.senders)
    if (!Bound(r, fd, q.local, 0, false, false, q.checksum)) return;
  r.underlayMtu = UnderlayMtu(r.rx[0].get(), q.local);
}

uint32_t Ipv4Arg(const Napi::Value& v) { return htonl(v.As<Napi::Number>().Uint32Value()); }

Tunnel* TunnelArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return nullptr;
  return TunnelOf(info[0].As<Napi::Number>().Int32Value());
}

}  // namespace

Napi::Value OpenVxlan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) ThrowUsage(env, "openVxlan(options) needs an options object");
  Napi::Object o = info[0].As<Napi::Object>();
  for (const char* key : {"local", "port", "vni", "workers"})
    if (!o.Get(key).IsNumber()) ThrowUsage(env, std::string("openVxlan needs a number ") + key);
  OpenRequest q;
  if (o.Get("netns").IsString()) q.netnsPath = NamespacePath(o.Get("netns").As<Napi::String>().Utf8Value());
  q.local = Ipv4Arg(o.Get("local"));
  q.port = htons(uint16_t(o.Get("port").As<Napi::Number>().Uint32Value()));
  q.workers = o.Get("workers").As<Napi::Number>().Int32Value();
  q.checksum = o.Get("checksum").ToBoolean().Value();
  uint32_t vni = o.Get("vni").As<Napi::Number>().Uint32Value();
  if (q.workers < 1 || q.workers > 64) ThrowUsage(env, "openVxlan: workers must be 1 to 64");
  if (vni > 0xffffff) ThrowUsage(env, "openVxlan: a VNI is 24 bits");

  OpenResult r;
  if (q.netnsPath.empty()) {
    OpenInCurrentNamespace(q, r);
  } else {
    NamespaceError ns = RunInNamespace(q.netnsPath, [&]() { OpenInCurrentNamespace(q, r); });
    if (ns.err) r = OpenResult{{}, {}, 0, ns.err, ns.syscall};
  }
  if (r.err) {
    char addr[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &q.local, addr, sizeof addr);
    std::string subject = std::string("for VXLAN on ") + addr + ":" + std::to_string(ntohs(q.port)) + (q.netnsPath.empty() ? "" : " in " + q.netnsPath);
    ThrowErrno(env, r.err, r.syscall, subject);
  }
  for (const Fd& fd : r.rx)
    if (fd.get() >= kMaxFds) ThrowUsage(env, "openVxlan: fd beyond the tunnel table; raise no more than 4096 fds");

  auto* t = new Tunnel();
  t->vni = vni;
  t->port = q.port;
  t->header[0] = kFlagVni;
  t->header[4] = uint8_t(vni >> 16);
  t->header[5] = uint8_t(vni >> 8);
  t->header[6] = uint8_t(vni);
  for (int k = 0; k < kSenders; ++k) t->senders[k] = r.senders[k].release();
  Napi::Array fds = Napi::Array::New(env, r.rx.size());
  {
    std::lock_guard<std::mutex> hold(registry);
    for (size_t w = 0; w < r.rx.size(); ++w) {
      int fd = r.rx[w].release();
      t->rxFds.push_back(fd);
      byFd[fd].store(t, std::memory_order_release);
      fds.Set(uint32_t(w), Napi::Number::New(env, fd));
    }
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("fds", fds);
  result.Set("underlayMtu", Napi::Number::New(env, r.underlayMtu));
  return result;
}

Napi::Value VxlanConfigure(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Tunnel* t = TunnelArg(info);
  if (t == nullptr || info.Length() < 3 || !info[1].IsArray()) return Napi::Number::New(env, -EINVAL);
  Napi::Array list = info[1].As<Napi::Array>();
  if (list.Length() > uint32_t(kMaxRemotes)) return Napi::Number::New(env, -E2BIG);
  std::lock_guard<std::mutex> hold(t->lock);
  uint32_t next[kMaxRemotes];
  for (uint32_t k = 0; k < list.Length(); ++k) next[k] = Ipv4Arg(list.Get(k));
  // What was learned behind a remote that is no longer one goes too: no frame is sent it any more.
  for (Entry& e : t->table) {
    if (e.state != kLearned) continue;
    bool was = false;
    bool is = false;
    for (int k = 0; k < t->remoteCount; ++k) was = was || t->remotes[k] == e.dst;
    for (uint32_t k = 0; k < list.Length(); ++k) is = is || next[k] == e.dst;
    if (was && !is) e.state = kDeleted;
  }
  t->remoteCount = int(list.Length());
  std::memcpy(t->remotes, next, sizeof(uint32_t) * list.Length());
  t->learning = info[2].ToBoolean().Value();
  RecomputeKnown(*t);
  return Napi::Number::New(env, 0);
}

Napi::Value VxlanFdb(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Tunnel* t = TunnelArg(info);
  Napi::Array out = Napi::Array::New(env);
  if (t == nullptr) return out;
  uint32_t now = Now();
  std::lock_guard<std::mutex> hold(t->lock);
  uint32_t n = 0;
  for (const Entry& e : t->table) {
    if ((e.state != kLearned && e.state != kStatic) || !Fresh(e, now)) continue;
    Napi::Object row = Napi::Object::New(env);
    row.Set("mac", Napi::Number::New(env, double(e.mac)));
    row.Set("dst", Napi::Number::New(env, ntohl(e.dst)));
    row.Set("static", Napi::Boolean::New(env, e.state == kStatic));
    row.Set("ageSeconds", Napi::Number::New(env, e.state == kStatic ? 0 : now - e.seen));
    out.Set(n++, row);
  }
  return out;
}

Napi::Value VxlanFdbSet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Tunnel* t = TunnelArg(info);
  if (t == nullptr || info.Length() < 3 || !info[1].IsNumber() || !info[2].IsNumber()) return Napi::Number::New(env, -EINVAL);
  uint64_t mac = uint64_t(info[1].As<Napi::Number>().Int64Value());
  std::lock_guard<std::mutex> hold(t->lock);
  uint32_t now = Now();
  Entry* e = Place(*t, mac, now);
  if (e == nullptr || (e->state == kStatic && e->mac != mac)) return Napi::Number::New(env, -ENOSPC);
  *e = Entry{mac, Ipv4Arg(info[2]), now, kStatic};
  RecomputeKnown(*t);
  return Napi::Number::New(env, 0);
}

Napi::Value VxlanFdbDel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Tunnel* t = TunnelArg(info);
  if (t == nullptr || info.Length() < 2 || !info[1].IsNumber()) return Napi::Number::New(env, -EINVAL);
  std::lock_guard<std::mutex> hold(t->lock);
  Entry* e = Find(*t, uint64_t(info[1].As<Napi::Number>().Int64Value()));
  if (e == nullptr) return Napi::Number::New(env, -ENOENT);
  e->state = kDeleted;
  RecomputeKnown(*t);
  return Napi::Number::New(env, 0);
}

Napi::Value VxlanClose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Tunnel* t = TunnelArg(info);
  if (t == nullptr) return Napi::Number::New(env, -EBADF);
  // The port left every worker before its tunnel closes, so no batch holds the tunnel now.
  {
    std::lock_guard<std::mutex> hold(registry);
    for (int fd : t->rxFds) byFd[fd].store(nullptr, std::memory_order_release);
  }
  for (int fd : t->rxFds) close(fd);
  for (int fd : t->senders) close(fd);
  delete t;
  return Napi::Number::New(env, 0);
}

}  // namespace tapswitch
