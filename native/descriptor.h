// The descriptor array shared with JavaScript: one fixed-size record per frame, in a Uint32Array.
// Keep in sync with src/native/descriptor.ts.
#pragma once
#include <cstdint>
#include <cstring>

namespace tapswitch {

constexpr uint32_t kDescWords = 8;
enum DescWord : uint32_t {
  kSlot = 0,         // frame pool slot the frame lives in (caller posts it for rx)
  kLength = 1,       // frame bytes, without the virtio header
  kStatus = 2,       // 0, or the errno of this frame's failure (rx: EMSGSIZE when truncated)
  kVnetFlags = 3,    // flags | gso_type << 8 | hdr_len << 16
  kVnetGso = 4,      // gso_size | csum_start << 16
  kVnetCsum = 5,     // csum_offset | rx VLAN tag << 16 (see kRxVlanTagged)
  kUser0 = 6,        // free for the caller (port, egress...)
  kUser1 = 7,
};

constexpr int kMaxBatch = 256;

// Bits 16..31 of kVnetCsum on rx from a packet socket: the VLAN tag the kernel took off the frame
// (PACKET_AUXDATA), as kRxVlanTagged | VLAN id << kRxVlanIdShift. PackVnet sends the low 16 only.
constexpr uint32_t kRxVlanTagged = 1u << 31;
constexpr int kRxVlanIdShift = 16;
constexpr uint32_t kRxVlanIdMask = 0xfff;

// struct virtio_net_hdr from <linux/virtio_net.h>, which C++ cannot include (a field is named `class`).
struct VirtioNetHdr {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
};
static_assert(sizeof(VirtioNetHdr) == 10, "virtio_net_hdr is 10 bytes");

constexpr int kVirtioNeedsCsum = 1;
constexpr int kVirtioDataValid = 2;
constexpr int kVirtioGsoNone = 0;
constexpr int kVirtioGsoTcpV4 = 1;
constexpr int kVirtioGsoUdp = 3;
constexpr int kVirtioGsoTcpV6 = 4;
constexpr int kVirtioGsoUdpL4 = 5;
constexpr int kVirtioGsoEcn = 0x80;
// The bits of kVnetFlags that hold the gso_type: non-zero for a GSO frame.
constexpr uint32_t kVnetGsoMask = 0xff00;

// Largest virtio header a port may carry: struct virtio_net_hdr_mrg_rxbuf.
constexpr int kMaxVnetHdr = 12;

inline void UnpackVnet(const uint8_t* raw, uint32_t* desc) {
  VirtioNetHdr h;
  std::memcpy(&h, raw, sizeof h);
  desc[kVnetFlags] = uint32_t(h.flags) | uint32_t(h.gso_type) << 8 | uint32_t(h.hdr_len) << 16;
  desc[kVnetGso] = uint32_t(h.gso_size) | uint32_t(h.csum_start) << 16;
  desc[kVnetCsum] = h.csum_offset;
}

inline void PackVnet(const uint32_t* desc, uint8_t* raw, int hdrLen) {
  VirtioNetHdr h;
  h.flags = uint8_t(desc[kVnetFlags]);
  h.gso_type = uint8_t(desc[kVnetFlags] >> 8);
  h.hdr_len = uint16_t(desc[kVnetFlags] >> 16);
  h.gso_size = uint16_t(desc[kVnetGso]);
  h.csum_start = uint16_t(desc[kVnetGso] >> 16);
  h.csum_offset = uint16_t(desc[kVnetCsum]);
  std::memset(raw, 0, hdrLen);
  std::memcpy(raw, &h, sizeof h);
}

inline void ClearVnet(uint32_t* desc) {
  desc[kVnetFlags] = 0;
  desc[kVnetGso] = 0;
  desc[kVnetCsum] = 0;
}

}  // namespace tapswitch
