// Names for kernel objects that are unique per process run, so parallel runs never collide.

const IFNAMSIZ = 15;
let counter = 0;

/** prefix + process id + '-' + a counter, in at most 15 bytes (an interface name's limit). */
export function uniqueName(prefix: string): string {
  counter += 1;
  // The dash keeps pid and counter apart: without it, pid "ab" + 1 and pid "a" + "b1" would meet.
  const name = `${prefix}${process.pid.toString(36)}-${counter.toString(36)}`;
  if (name.length > IFNAMSIZ) throw new RangeError(`name ${name} is longer than ${IFNAMSIZ} bytes: shorten the prefix "${prefix}"`);
  return name;
}
