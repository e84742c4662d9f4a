// BPDUs on the wire, as IEEE 802.1D (1998, clause 9) lays them out: an 802.3 frame to the bridge
// group address 01:80:C2:00:00:00 with an LLC header (DSAP and SSAP 0x42, UI), then a
// configuration BPDU (35 bytes) or a topology change notification (4 bytes). Times are carried in
// 1/256 s; here they are milliseconds. Bridge ids are 8 bytes, priority then MAC, compared as
// numbers, so they are bigints here.
import { ETH_DST, ETH_HEADER_BYTES, ETH_MIN_FRAME_BYTES, ETH_SRC, ETH_TYPE } from '../packet/ethernet.js';
import { formatMac } from '../packet/mac.js';

export const BRIDGE_GROUP_MAC = Uint8Array.of(0x01, 0x80, 0xc2, 0x00, 0x00, 0x00);
const LLC = [0x42, 0x42, 0x03];
const TYPE_CONFIG = 0x00;
const TYPE_TCN = 0x80;
const FLAG_TC = 0x01;
const FLAG_TCA = 0x80;
const CONFIG_BYTES = 35;
const TCN_BYTES = 4;
/** The largest 802.3 length: above it the field is an EtherType. */
const MAX_LENGTH_FIELD = 1500;

export interface ConfigBpdu {
  type: 'config';
  topologyChange: boolean;
  topologyChangeAck: boolean;
  root: bigint;
  rootPathCost: number;
  bridge: bigint;
  port: number;
  /** Milliseconds, as every time here. */
  messageAge: number;
  maxAge: number;
  helloTime: number;
  forwardDelay: number;
}

export interface TcnBpdu {
  type: 'tcn';
}

export type Bpdu = ConfigBpdu | TcnBpdu;

/** A bridge id from its priority (0-61440, a multiple of 4096 as 802.1t has it) and its MAC. */
export function bridgeId(priority: number, mac: Uint8Array): bigint {
  let id = BigInt(priority);
  for (const b of mac) id = (id << 8n) | BigInt(b);
  return id;
}

/** As the Linux bridge prints one: 8000.02aabbccddee. */
export function formatBridgeId(id: bigint): string {
  const hex = id.toString(16).padStart(16, '0');
  return `${hex.slice(0, 4)}.${hex.slice(4)}`;
}

/** The MAC of a bridge id, as ip link prints it. */
export function bridgeMac(id: bigint): string {
  const bytes = new Uint8Array(6);
  for (let k = 0; k < 6; k++) bytes[k] = Number((id >> BigInt(8 * (5 - k))) & 0xffn);
  return formatMac(bytes);
}

const toUnits = (ms: number): number => Math.min(0xffff, Math.round((ms * 256) / 1000));
const fromUnits = (units: number): number => (units * 1000) / 256;

/** The frame that carries `bpdu` from the port whose MAC is `src`, padded to Ethernet's 60 bytes. */
export function encodeBpdu(bpdu: Bpdu, src: Uint8Array): Uint8Array {
  const frame = new Uint8Array(ETH_MIN_FRAME_BYTES);
  const view = new DataView(frame.buffer);
  frame.set(BRIDGE_GROUP_MAC, ETH_DST);
  frame.set(src, ETH_SRC);
  const body = bpdu.type === 'config' ? CONFIG_BYTES : TCN_BYTES;
  view.setUint16(ETH_TYPE, LLC.length + body);
  frame.set(LLC, ETH_HEADER_BYTES);
  const at = ETH_HEADER_BYTES + LLC.length;
  // Protocol id 0 and version 0 (STP) are the zeros already there.
  if (bpdu.type === 'tcn') {
    frame[at + 3] = TYPE_TCN;
    return frame;
  }
  frame[at + 3] = TYPE_CONFIG;
  frame[at + 4] = (bpdu.topologyChange ? FLAG_TC : 0) | (bpdu.topologyChangeAck ? FLAG_TCA : 0);
  view.setBigUint64(at + 5, bpdu.root);
  view.setUint32(at + 13, bpdu.rootPathCost);
  view.setBigUint64(at + 17, bpdu.bridge);
  view.setUint16(at + 25, bpdu.port);
  view.setUint16(at + 27, toUnits(bpdu.messageAge));
  view.setUint16(at + 29, toUnits(bpdu.maxAge));
  view.setUint16(at + 31, toUnits(bpdu.helloTime));
  view.setUint16(at + 33, toUnits(bpdu.forwardDelay));
  return frame;
}

/**
 * The BPDU a frame to the bridge group address carries, or null when it carries none that STP
 * reads: not 802.3 with the LLC header, cut short, or of a protocol or type it does not know (an
 * RSTP or MSTP BPDU, which a bridge that speaks only 802.1D ignores).
 */
export function decodeBpdu(frame: Uint8Array): Bpdu | null {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const at = ETH_HEADER_BYTES + LLC.length;
  if (frame.length < at + TCN_BYTES || view.getUint16(ETH_TYPE) > MAX_LENGTH_FIELD) return null;
  if (LLC.some((b, k) => frame[ETH_HEADER_BYTES + k] !== b) || view.getUint16(at) !== 0) return null;
  const type = frame[at + 3];
  if (type === TYPE_TCN) return { type: 'tcn' };
  if (type !== TYPE_CONFIG || frame.length < at + CONFIG_BYTES) return null;
  const flags = frame[at + 4]!;
  return {
    type: 'config',
    topologyChange: (flags & FLAG_TC) !== 0,
    topologyChangeAck: (flags & FLAG_TCA) !== 0,
    root: view.getBigUint64(at + 5),
    rootPathCost: view.getUint32(at + 13),
    bridge: view.getBigUint64(at + 17),
    port: view.getUint16(at + 25),
    messageAge: fromUnits(view.getUint16(at + 27)),
    maxAge: fromUnits(view.getUint16(at + 29)),
    helloTime: fromUnits(view.getUint16(at + 31)),
    forwardDelay: fromUnits(view.getUint16(at + 33)),
  };
}
