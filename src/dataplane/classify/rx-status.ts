// What a read marked in a frame's status word, as the drop reason classify counts it under.
import { C } from '../../native/addon.js';
import { EBADMSG } from '../../native/errno.js';
import { DROP_SHORT_READ, DROP_TRUNCATED, DROP_VXLAN_BAD_FLAGS, DROP_VXLAN_SHORT, DROP_VXLAN_UNKNOWN_VTEP, DROP_VXLAN_WRONG_VNI } from '../core/drop-reasons.js';

const VXLAN_SHORT = C.VXLAN_SHORT;
const VXLAN_BAD_FLAGS = C.VXLAN_BAD_FLAGS;
const VXLAN_WRONG_VNI = C.VXLAN_WRONG_VNI;
const VXLAN_UNKNOWN_VTEP = C.VXLAN_UNKNOWN_VTEP;

/** The reason for a non-zero rx status: no frame (short_read), a cut one (truncated), or a VXLAN datagram that is no frame of its port. */
export function rxDropReason(status: number): number {
  switch (status) {
    case EBADMSG:
      return DROP_SHORT_READ;
    case VXLAN_SHORT:
      return DROP_VXLAN_SHORT;
    case VXLAN_BAD_FLAGS:
      return DROP_VXLAN_BAD_FLAGS;
    case VXLAN_WRONG_VNI:
      return DROP_VXLAN_WRONG_VNI;
    case VXLAN_UNKNOWN_VTEP:
      return DROP_VXLAN_UNKNOWN_VTEP;
    default:
      return DROP_TRUNCATED;
  }
}
