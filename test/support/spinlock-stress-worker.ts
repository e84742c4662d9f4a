// One member of the spinlock stress team: each operation takes the lock and, inside it, marks the
// section occupied, adds one to a plain (non-atomic) counter, and clears the mark. A member that
// finds the mark set was let in while another was inside; lost additions show in the final count.

import { SpinLock } from '../../src/dataplane/shm/spinlock.js';
import { LOCK_WORD, OCCUPIED_WORD, COUNTER_WORD } from './spinlock-stress-plan.js';
import { Member } from './stress-team.js';

const member = new Member<SharedArrayBuffer>();
const words = new Int32Array(member.data.table);
const lock = new SpinLock(words, LOCK_WORD);

member.work(() => {
  lock.lock();
  if (words[OCCUPIED_WORD] !== 0) member.violation('took the lock while another member was inside it');
  words[OCCUPIED_WORD] = 1;
  words[COUNTER_WORD] = words[COUNTER_WORD]! + 1;
  words[OCCUPIED_WORD] = 0;
  lock.unlock();
});
