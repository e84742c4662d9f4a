// The errnos the frame path tells apart, as the native layer reports them in return values and
// descriptor status words. Taken from the addon, so they are this platform's numbers.
import { C } from './addon.js';

export const EIO = C.EIO;
export const ENXIO = C.ENXIO;
export const EBADF = C.EBADF;
export const EAGAIN = C.EAGAIN;
export const ENODEV = C.ENODEV;
export const EINVAL = C.EINVAL;
/** A read shorter than the virtio header: no frame at all. */
export const EBADMSG = C.EBADMSG;
export const EBADFD = C.EBADFD;
/** A frame cut short to its slot, or too large for the queue it was written to. */
export const EMSGSIZE = C.EMSGSIZE;
export const ENETDOWN = C.ENETDOWN;
export const ENOBUFS = C.ENOBUFS;
