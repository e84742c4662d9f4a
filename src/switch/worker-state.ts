// What one worker holds by the main thread's commands: its ports' queues, the uplink, the running
// captures and a running trace. The pool notes each command a worker has applied, so that a worker
// that died can be started again with the same state: its queues' fds and rings live in the main
// thread and in shared memory, so the new thread adopts them as the old one did.
import type { WorkerCommandBody } from '../dataplane/core/worker.js';

type Command<T extends WorkerCommandBody['type']> = Extract<WorkerCommandBody, { type: T }>;

export class WorkerState {
  private readonly ports = new Map<number, Command<'addPort'>>();
  private uplink: Command<'setUplink'> | null = null;
  private readonly captures = new Map<number, Command<'captureStart'>>();
  private trace: Command<'traceStart'> | null = null;

  /** Takes note of a command the worker has applied; commands that leave no state change nothing. */
  applied(command: WorkerCommandBody): void {
    switch (command.type) {
      case 'addPort':
        this.ports.set(command.id, command);
        break;
      case 'removePort':
        this.ports.delete(command.id);
        break;
      case 'setUplink':
        this.uplink = command.uplink === null ? null : command;
        break;
      case 'captureStart':
        this.captures.set(command.id, command);
        break;
      case 'captureStop':
        this.captures.delete(command.id);
        break;
      case 'traceStart':
        this.trace = command;
        break;
      case 'traceStop':
        this.trace = null;
        break;
      default:
        break;
    }
  }

  /** Forgets a command of restore() that a new worker refused, so the state says what it holds. */
  refused(command: WorkerCommandBody): void {
    if (command.type === 'addPort' && this.ports.get(command.id) === command) this.ports.delete(command.id);
    if (this.uplink === command) this.uplink = null;
    if (command.type === 'captureStart' && this.captures.get(command.id) === command) this.captures.delete(command.id);
    if (this.trace === command) this.trace = null;
  }

  /** The commands that give a new worker this state, ports first: the uplink names one of them. */
  restore(): WorkerCommandBody[] {
    const commands: WorkerCommandBody[] = [...this.ports.values()];
    if (this.uplink) commands.push(this.uplink);
    commands.push(...this.captures.values());
    if (this.trace) commands.push(this.trace);
    return commands;
  }
}

/** What a restore command gave back, for the log: "port 3", "capture 2". */
export function describeState(command: WorkerCommandBody): string {
  switch (command.type) {
    case 'addPort':
      return `port ${command.id}`;
    case 'setUplink':
      return 'the uplink';
    case 'captureStart':
      return `capture ${command.id}`;
    case 'traceStart':
      return 'the trace';
    default:
      return command.type;
  }
}
