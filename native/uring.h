// io_uring batching behind the same rx/tx calls: one submission per batch instead of one syscall per frame.
#pragma once
#include <sys/uio.h>

#include <cstdint>

#include "batch.h"
#include "descriptor.h"

namespace tapswitch {

bool UringCompiledIn();
// 0 when this thread can use io_uring, else the errno that stops it.
int UringProbe();

// Reads into the posted iovecs with RWF_NOWAIT; returns frames read, compacted to the front with their
// slots and headers, each kLength holding the bytes read including the header; or -errno.
int UringReadFrames(const Batch& b, iovec (*iov)[2], uint8_t (*hdr)[kMaxVnetHdr]);
// Writes the prepared iovecs in one submission; returns how many went out, after moving the
// descriptors of frames that did not to the back (the first of them carries its errno).
int UringWriteFrames(const Batch& b, iovec (*iov)[2]);

}  // namespace tapswitch
