import type { Redis } from 'ioredis';
import {
  type ClientSocket,
  isSettled,
  lastWritten,
  type SentCommand,
  socketOf,
  timeCommands,
  timeOut,
} from './ioredis-internals';

interface Deadline {
  readonly command: SentCommand;
  readonly at: number;
  /** The socket the command was written to, and the bytes read from it then (`undefined`: queued offline). */
  socket: ClientSocket | undefined;
  bytesRead: number;
}

/**
 * The command timeout and the dead-connection check of ioredis' `commandTimeout` and
 * `socketTimeout`, for a client this store created, with one timer per client instead of two per
 * command: ioredis arms a ref'd timer per command (`commandTimeout`) and one per write to an idle
 * socket (`socketTimeout`), ≈ 1.3 µs of CPU per command measured at 1 in flight, which is most of
 * what a lone GET through the store cost over a raw ioredis GET.
 *
 * Every command sent gets a deadline `ms` after it was first sent (queued offline or written,
 * as ioredis times it). Deadlines are kept in send order (all are `ms` long, so that is deadline
 * order) and one unref'd timer, armed for the oldest, rejects a command still unanswered at its
 * deadline with ioredis' own error (`Command timed out`, which the store turns into a
 * `TimeoutError`). If nothing at all was read from the socket since that command was written,
 * the connection is dead (half-open, blackholed): it is destroyed, as `socketTimeout` did, and
 * ioredis reconnects. Answered commands are dropped from the front as new ones are sent, so at
 * 1 in flight the list holds one command and the timer is re-armed about once per `ms`.
 */
export class CommandDeadlines {
  /**
   * Deadlines in send order from \`head\`; the slots before it are cleared as it passes them. Why:
   * while a command is in flight the list never empties, and an answered command kept in a slot
   * keeps its arguments (a batch of tagged writes, a large value) alive until the list is
   * compacted, 1,024 commands later: long enough to be copied to the old generation, which cost a
   * tagged write at 64 in flight about a tenth of its CPU (measured 2026-11-28).
   */
  private queue: (Deadline | undefined)[] = [];
  /**
   * Deadlines of the commands queued offline (not yet written): ioredis sends them again on
   * connect, and they keep their first deadline. Kept apart so that a written command, the
   * common case, carries nothing: a property added to ioredis' \`Command\` after its constructor
   * cost an allocation and a shape change per command.
   */
  private readonly offline = new Map<SentCommand, Deadline>();
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly client: Redis,
    private readonly ms: number,
  ) {}

  /** Times `command`, just handed to the client (idempotent: a resent command keeps its first deadline). */
  track(command: SentCommand): void {
    if (isSettled(command)) return;
    const written = lastWritten(this.client) === command;
    const socket = written ? socketOf(this.client) : undefined;
    const known = this.offline.size === 0 ? undefined : this.offline.get(command);
    if (known !== undefined) {
      // Sent again (the offline queue flushed on connect): check the socket it is written to now.
      if (socket !== undefined) {
        known.socket = socket;
        known.bytesRead = socket.bytesRead;
        this.offline.delete(command);
      }
      return;
    }
    const deadline: Deadline = {
      command,
      at: performance.now() + this.ms,
      socket,
      bytesRead: socket === undefined ? 0 : socket.bytesRead,
    };
    if (socket === undefined) this.offline.set(command, deadline);
    this.dropAnswered();
    this.queue.push(deadline);
    if (this.timer === undefined && !this.closed) this.arm(this.ms);
  }

  /** Commands timed and not yet dropped (answered ones leave as new ones are sent or the timer runs). */
  get size(): number {
    return this.queue.length - this.head;
  }

  /** Stops the timer (the client is closing; its commands settle through ioredis). */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.sweep, Math.max(1, Math.ceil(ms)));
    this.timer.unref();
  }

  private dropAnswered(): void {
    const queue = this.queue;
    let head = this.head;
    while (head < queue.length && isSettled(queue[head]!.command)) {
      if (queue[head]!.socket === undefined) this.offline.delete(queue[head]!.command);
      queue[head++] = undefined;
    }
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      this.queue = queue.slice(head);
      head = 0;
    }
    this.head = head;
  }

  private readonly sweep = (): void => {
    this.timer = undefined;
    // Deadlines within a millisecond expire together, as ioredis' timers (libuv counts whole
    // milliseconds): the commands of one tick all time out before a dead socket is destroyed.
    const now = performance.now() + 1;
    const queue = this.queue;
    while (this.head < queue.length) {
      const deadline = queue[this.head]!;
      if (!isSettled(deadline.command)) {
        if (deadline.at > now) break;
        this.expire(deadline);
      }
      if (this.offline.size > 0) this.offline.delete(deadline.command);
      queue[this.head++] = undefined;
    }
    this.dropAnswered();
    if (this.head < this.queue.length && !this.closed) this.arm(this.queue[this.head]!.at - now);
  };

  private expire(deadline: Deadline): void {
    timeOut(deadline.command);
    const socket = deadline.socket;
    if (socket === undefined || socket.destroyed || socket.bytesRead !== deadline.bytesRead) return;
    if (socketOf(this.client) !== socket) return;
    // Not one byte since this command was written: the connection is dead, reopen it.
    socket.destroy(new Error(`Socket timeout. Expecting data, but didn't receive any in ${this.ms}ms.`));
  }
}

/**
 * Times every command `client` sends with a `CommandDeadlines` instead of ioredis' per-command
 * timers (create the client without `commandTimeout`/`socketTimeout`). Clients it `duplicate()`s
 * get ioredis' own timeouts back, so they are bounded as before.
 */
export function timedByDeadlines(client: Redis, ms: number): CommandDeadlines {
  const deadlines = new CommandDeadlines(client, ms);
  timeCommands(client, ms, (command) => deadlines.track(command));
  return deadlines;
}
