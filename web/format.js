// Numbers as people read them on a page about traffic.

const UNITS = ['', 'k', 'M', 'G', 'T'];

/** 1234567 → "1.23 M"; below 1000 a whole number. */
export function si(n) {
  let i = 0;
  while (n >= 1000 && i < UNITS.length - 1) {
    n /= 1000;
    i++;
  }
  return i === 0 ? String(Math.round(n)) : `${n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)} ${UNITS[i]}`;
}

export function bits(bytesPerSecond) {
  return `${si(bytesPerSecond * 8)}b/s`;
}
