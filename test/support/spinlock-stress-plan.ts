// The words of the spinlock stress test: the lock, a mark set while a member is inside, and a counter.

export const LOCK_WORD = 0;
export const OCCUPIED_WORD = 1;
export const COUNTER_WORD = 2;
export const SPINLOCK_STRESS_WORDS = 4;
