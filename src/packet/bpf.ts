// Classic BPF, as libpcap compiles tcpdump filters: checked once when loaded, then run per frame
// over a slice of a pool without allocating.

/** Instructions as (code, jt, jf, k) quadruples. */
export type BpfProgram = Int32Array;

const BPF_LD = 0x00;
const BPF_LDX = 0x01;
const BPF_ST = 0x02;
const BPF_STX = 0x03;
const BPF_ALU = 0x04;
const BPF_JMP = 0x05;
const BPF_RET = 0x06;
const BPF_MISC = 0x07;

const BPF_W = 0x00;
const BPF_H = 0x08;
const BPF_B = 0x10;

const BPF_IMM = 0x00;
const BPF_ABS = 0x20;
const BPF_IND = 0x40;
const BPF_MEM = 0x60;
const BPF_LEN = 0x80;
const BPF_MSH = 0xa0;

const BPF_ADD = 0x00;
const BPF_SUB = 0x10;
const BPF_MUL = 0x20;
const BPF_DIV = 0x30;
const BPF_OR = 0x40;
const BPF_AND = 0x50;
const BPF_LSH = 0x60;
const BPF_RSH = 0x70;
const BPF_NEG = 0x80;
const BPF_MOD = 0x90;
const BPF_XOR = 0xa0;

const BPF_JA = 0x00;
const BPF_JEQ = 0x10;
const BPF_JGT = 0x20;
const BPF_JGE = 0x30;
const BPF_JSET = 0x40;

const BPF_K = 0x00;
const BPF_X = 0x08;
const BPF_A = 0x10;

const BPF_TAX = 0x00;
const BPF_TXA = 0x80;

const MEMWORDS = 16;
const MAX_INSNS = 4096;

export class BpfError extends Error {
  override readonly name = 'BpfError';
}

/** Parses `tcpdump -ddd` output: a count, then one "code jt jf k" line per instruction. */
export function parseBpf(text: string): BpfProgram {
  const lines = text.trim().split('\n');
  const count = Number(lines[0]);
  if (!Number.isInteger(count) || count < 1 || count > MAX_INSNS || lines.length !== count + 1) {
    throw new BpfError(`not a BPF program in tcpdump -ddd form: ${lines[0] ?? ''}`);
  }
  const prog = new Int32Array(count * 4);
  for (let i = 0; i < count; i++) {
    const parts = lines[i + 1]!.trim().split(/\s+/).map(Number);
    if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n))) throw new BpfError(`bad BPF instruction ${i}: ${lines[i + 1]}`);
    prog.set(parts.map((n) => n | 0), i * 4);
  }
  validateBpf(prog);
  return prog;
}

/** The opcodes the kernel accepts in classic BPF (bpf_check_classic), without its extensions. */
const VALID_CODES = new Set([
  // loads
  0x00, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x60, 0x80, 0x01, 0x61, 0x81, 0xb1,
  // stores
  0x02, 0x03,
  // ALU, K and X
  0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c, 0x74, 0x7c, 0x84, 0x94, 0x9c, 0xa4, 0xac,
  // jumps
  0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d,
  // returns
  0x06, 0x16,
  // tax, txa
  0x07, 0x87,
]);

/** The kernel's checks (bpf_check_classic): known opcodes, jumps inside, a return at the end. */
export function validateBpf(prog: BpfProgram): void {
  const n = prog.length / 4;
  if (n === 0 || n > MAX_INSNS) throw new BpfError(`a BPF program has 1 to ${MAX_INSNS} instructions`);
  for (let pc = 0; pc < n; pc++) {
    const code = prog[pc * 4]!;
    const jt = prog[pc * 4 + 1]!;
    const jf = prog[pc * 4 + 2]!;
    const k = prog[pc * 4 + 3]!;
    const cls = code & 0x07;
    if (!VALID_CODES.has(code)) throw new BpfError(`BPF instruction ${pc} has an unknown opcode ${code}`);
    // In struct sock_filter, jt and jf are unsigned bytes: jumps only go forward.
    if (jt < 0 || jt > 255 || jf < 0 || jf > 255) throw new BpfError(`BPF instruction ${pc} has a jump offset outside 0..255`);
    if (cls === BPF_ALU && ((code & 0xf0) === BPF_LSH || (code & 0xf0) === BPF_RSH) && (code & 0x08) === BPF_K && (k < 0 || k >= 32)) {
      throw new BpfError(`BPF instruction ${pc} shifts by ${k}`);
    }
    if (cls === BPF_JMP) {
      const target = (code & 0xf0) === BPF_JA ? pc + 1 + (k >>> 0) : Math.max(pc + 1 + jt, pc + 1 + jf);
      if (target >= n) throw new BpfError(`BPF instruction ${pc} jumps past the end`);
    }
    if ((cls === BPF_ST || cls === BPF_STX || ((cls === BPF_LD || cls === BPF_LDX) && (code & 0xe0) === BPF_MEM)) && (k < 0 || k >= MEMWORDS)) {
      throw new BpfError(`BPF instruction ${pc} uses scratch word ${k}`);
    }
    if (cls === BPF_ALU && (code & 0xf0) === BPF_DIV && (code & 0x08) === BPF_K && k === 0) throw new BpfError(`BPF instruction ${pc} divides by 0`);
  }
  if ((prog[(n - 1) * 4]! & 0x07) !== BPF_RET) throw new BpfError('a BPF program must end with a return');
}

const scratch = new Int32Array(MEMWORDS);

/**
 * Runs the program over bytes[offset..offset+len) and returns how many bytes to keep (0: the
 * frame does not match). Out-of-bounds loads reject, as in the kernel.
 */
export function runBpf(prog: BpfProgram, bytes: Uint8Array, offset: number, len: number): number {
  let a = 0;
  let x = 0;
  const n = prog.length >> 2;
  for (let pc = 0; pc < n; pc++) {
    const base = pc << 2;
    const code = prog[base]!;
    const k = prog[base + 3]!;
    switch (code & 0x07) {
      case BPF_LD:
      case BPF_LDX: {
        const toX = (code & 0x07) === BPF_LDX;
        const mode = code & 0xe0;
        let value: number;
        if (mode === BPF_IMM) value = k;
        else if (mode === BPF_LEN) value = len;
        else if (mode === BPF_MEM) value = scratch[k]!;
        else if (mode === BPF_MSH) {
          if (k < 0 || k >= len) return 0;
          value = (bytes[offset + k]! & 0x0f) << 2;
        } else {
          const at = mode === BPF_IND ? (x + k) | 0 : k;
          const size = code & 0x18;
          const width = size === BPF_W ? 4 : size === BPF_H ? 2 : 1;
          if (at < 0 || at + width > len) return 0;
          const p = offset + at;
          value = width === 4 ? ((bytes[p]! << 24) | (bytes[p + 1]! << 16) | (bytes[p + 2]! << 8) | bytes[p + 3]!) : width === 2 ? (bytes[p]! << 8) | bytes[p + 1]! : bytes[p]!;
        }
        if (toX) x = value;
        else a = value;
        break;
      }
      case BPF_ST:
        scratch[k] = a;
        break;
      case BPF_STX:
        scratch[k] = x;
        break;
      case BPF_ALU: {
        const operand = (code & BPF_X) !== 0 ? x : k;
        switch (code & 0xf0) {
          case BPF_ADD: a = (a + operand) | 0; break;
          case BPF_SUB: a = (a - operand) | 0; break;
          case BPF_MUL: a = Math.imul(a, operand); break;
          case BPF_DIV: if (operand === 0) return 0; a = Math.floor((a >>> 0) / (operand >>> 0)) | 0; break;
          case BPF_MOD: if (operand === 0) return 0; a = ((a >>> 0) % (operand >>> 0)) | 0; break;
          case BPF_OR: a |= operand; break;
          case BPF_AND: a &= operand; break;
          case BPF_XOR: a ^= operand; break;
          case BPF_LSH: a = operand >>> 0 >= 32 ? 0 : a << operand; break;
          case BPF_RSH: a = operand >>> 0 >= 32 ? 0 : a >>> operand; break;
          case BPF_NEG: a = -a | 0; break;
          default: return 0;
        }
        break;
      }
      case BPF_JMP: {
        const op = code & 0xf0;
        if (op === BPF_JA) {
          pc += k >>> 0;
          break;
        }
        const operand = ((code & BPF_X) !== 0 ? x : k) >>> 0;
        const ua = a >>> 0;
        const taken = op === BPF_JEQ ? ua === operand : op === BPF_JGT ? ua > operand : op === BPF_JGE ? ua >= operand : op === BPF_JSET ? (ua & operand) !== 0 : false;
        pc += taken ? prog[base + 1]! : prog[base + 2]!;
        break;
      }
      case BPF_RET: {
        const r = (code & 0x18) === BPF_A ? a : k;
        return Math.min(r >>> 0, len);
      }
      case BPF_MISC:
        if ((code & 0xf8) === BPF_TAX) x = a;
        else if ((code & 0xf8) === BPF_TXA) a = x;
        break;
      default:
        return 0;
    }
  }
  return 0;
}
