// Interface and namespace names as the kernel and ip-netns accept them, checked before anything is made.
import { InputError } from '../subnet.js';

const IFNAMSIZ = 15;
const NETNS_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function checkIfname(name: string, what: string): string {
  if (name.length === 0 || name.length > IFNAMSIZ || /[\s/:]/.test(name)) {
    throw new InputError(`${what} "${name}" must be 1-${IFNAMSIZ} characters without spaces, '/' or ':' (IFNAMSIZ)`);
  }
  return name;
}

export function checkNetns(name: string): string {
  if (!NETNS_NAME.test(name)) throw new InputError(`namespace name "${name}" must be 1-64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit`);
  return name;
}
