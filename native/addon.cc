// tapswitch native I/O: moves frames between the kernel and pool slots; all decisions stay in TypeScript.
#include <linux/if_packet.h>

#include <cerrno>
#include <linux/if_tun.h>
#include <napi.h>

#include "batch.h"
#include "copy.h"
#include "descriptor.h"
#include "errors.h"
#include "packet_socket.h"
#include "tap.h"
#include "thread.h"
#include "uring.h"
#include "vlan.h"
#include "vxlan.h"
#include "wait.h"

namespace tapswitch {

namespace {

Napi::Value UringStatus(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), UringProbe());
}

Napi::Value ErrnoNameOf(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), ErrnoName(info[0].As<Napi::Number>().Int32Value()));
}

Napi::Object Constants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  auto set = [&](const char* name, double value) { c.Set(name, Napi::Number::New(env, value)); };
  set("DESC_WORDS", kDescWords);
  set("MAX_BATCH", kMaxBatch);
  set("MODE_SOCKET", kModeSocket);
  set("MODE_URING", kModeUring);
  set("MODE_BITS", kModeBits);
  set("MODE_VXLAN", kModeVxlan);
  set("VXLAN_SHORT", kStatusVxlanShort);
  set("VXLAN_BAD_FLAGS", kStatusVxlanFlags);
  set("VXLAN_WRONG_VNI", kStatusVxlanVni);
  set("VXLAN_UNKNOWN_VTEP", kStatusVxlanUnknownVtep);
  set("WAIT_TIMEOUT", kWaitTimeout);
  set("WAIT_READABLE", kWaitReadable);
  set("WAIT_WOKEN", kWaitWoken);
  set("TUN_F_CSUM", TUN_F_CSUM);
  set("TUN_F_TSO4", TUN_F_TSO4);
  set("TUN_F_TSO6", TUN_F_TSO6);
  set("TUN_F_TSO_ECN", TUN_F_TSO_ECN);
  set("TUN_F_USO4", 0x20);
  set("TUN_F_USO6", 0x40);
  set("PACKET_FANOUT_HASH", PACKET_FANOUT_HASH);
  set("PACKET_FANOUT_LB", PACKET_FANOUT_LB);
  set("PACKET_FANOUT_CPU", PACKET_FANOUT_CPU);
  set("PACKET_FANOUT_QM", PACKET_FANOUT_QM);
  set("PACKET_FANOUT_FLAG_DEFRAG", PACKET_FANOUT_FLAG_DEFRAG);
  set("PACKET_FANOUT_FLAG_ROLLOVER", PACKET_FANOUT_FLAG_ROLLOVER);
  set("VIRTIO_NET_HDR_F_NEEDS_CSUM", kVirtioNeedsCsum);
  set("VIRTIO_NET_HDR_F_DATA_VALID", kVirtioDataValid);
  set("VIRTIO_NET_HDR_GSO_NONE", kVirtioGsoNone);
  set("VIRTIO_NET_HDR_GSO_TCPV4", kVirtioGsoTcpV4);
  set("VIRTIO_NET_HDR_GSO_UDP", kVirtioGsoUdp);
  set("VIRTIO_NET_HDR_GSO_TCPV6", kVirtioGsoTcpV6);
  set("VIRTIO_NET_HDR_GSO_UDP_L4", kVirtioGsoUdpL4);
  set("VIRTIO_NET_HDR_GSO_ECN", kVirtioGsoEcn);
  // The errnos the frame path tells apart, as this platform numbers them.
  set("EIO", EIO);
  set("ENXIO", ENXIO);
  set("EBADF", EBADF);
  set("EAGAIN", EAGAIN);
  set("ENODEV", ENODEV);
  set("EINVAL", EINVAL);
  set("EBADMSG", EBADMSG);
  set("EBADFD", EBADFD);
  set("EMSGSIZE", EMSGSIZE);
  set("ENETDOWN", ENETDOWN);
  set("ENOBUFS", ENOBUFS);
  return c;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("openTap", Napi::Function::New(env, OpenTap, "openTap"));
  exports.Set("openPacket", Napi::Function::New(env, OpenPacket, "openPacket"));
  exports.Set("packetStatistics", Napi::Function::New(env, PacketStatistics, "packetStatistics"));
  exports.Set("openVxlan", Napi::Function::New(env, OpenVxlan, "openVxlan"));
  exports.Set("vxlanConfigure", Napi::Function::New(env, VxlanConfigure, "vxlanConfigure"));
  exports.Set("vxlanFdb", Napi::Function::New(env, VxlanFdb, "vxlanFdb"));
  exports.Set("vxlanFdbSet", Napi::Function::New(env, VxlanFdbSet, "vxlanFdbSet"));
  exports.Set("vxlanFdbDel", Napi::Function::New(env, VxlanFdbDel, "vxlanFdbDel"));
  exports.Set("vxlanClose", Napi::Function::New(env, VxlanClose, "vxlanClose"));
  exports.Set("rx", Napi::Function::New(env, Rx, "rx"));
  exports.Set("tx", Napi::Function::New(env, Tx, "tx"));
  exports.Set("copySlots", Napi::Function::New(env, CopySlots, "copySlots"));
  exports.Set("vlanRewrite", Napi::Function::New(env, VlanRewrite, "vlanRewrite"));
  exports.Set("waiterOpen", Napi::Function::New(env, WaiterOpen, "waiterOpen"));
  exports.Set("waiterAdd", Napi::Function::New(env, WaiterAdd, "waiterAdd"));
  exports.Set("waiterDel", Napi::Function::New(env, WaiterDel, "waiterDel"));
  exports.Set("wait", Napi::Function::New(env, Wait, "wait"));
  exports.Set("wake", Napi::Function::New(env, Wake, "wake"));
  exports.Set("pinThread", Napi::Function::New(env, PinThread, "pinThread"));
  exports.Set("nameThread", Napi::Function::New(env, NameThread, "nameThread"));
  exports.Set("setNonBlocking", Napi::Function::New(env, SetNonBlocking, "setNonBlocking"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("socketPair", Napi::Function::New(env, SocketPair, "socketPair"));
  exports.Set("currentThreadId", Napi::Function::New(env, CurrentThreadId, "currentThreadId"));
  exports.Set("setThreadNice", Napi::Function::New(env, SetThreadNice, "setThreadNice"));
  exports.Set("uringStatus", Napi::Function::New(env, UringStatus, "uringStatus"));
  exports.Set("errnoName", Napi::Function::New(env, ErrnoNameOf, "errnoName"));
  exports.Set("uringCompiledIn", Napi::Boolean::New(env, UringCompiledIn()));
  exports.Set("constants", Constants(env));
  return exports;
}

}  // namespace tapswitch

static Napi::Object InitTapswitch(Napi::Env env, Napi::Object exports) { return tapswitch::Init(env, exports); }

NODE_API_MODULE(tapswitch, InitTapswitch)
