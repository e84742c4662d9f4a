// Blocks in wait() with no timeout and reports what ended it.
import { parentPort, workerData } from 'node:worker_threads';

import { Waiter, type WaiterFds } from '../../src/native/wait.js';

parentPort!.postMessage(Waiter.adopt(workerData as WaiterFds).wait(-1));
