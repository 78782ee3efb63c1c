import type { Redis } from 'ioredis';
import { awaitingReplies, type ClientSocket, socketOf } from './ioredis-internals';

/** Commands a corked socket holds at most before it is written (see `Corker`). */
export const FLUSH_EVERY = 32;

/**
 * Joins the commands a store sends to one connection within one turn of the event loop into one
 * socket write, as node-redis 5 does, but only when there is something to join: a command sent
 * while the connection has nothing in flight goes out at once (a lone command waits for nothing),
 * one sent while others await their replies corks the ioredis socket and a `setImmediate` uncorks
 * it, so the writes queued meanwhile leave as one `writev`. ioredis otherwise makes one socket
 * write per command (≈ 3 µs of CPU each, see the README); its `enableAutoPipelining` also joins
 * them but costs more per command than it saves. Whether anything is in flight is read from the
 * client's command queue: no per-command bookkeeping (marking the first command of a tick took a
 * `process.nextTick`, ≈ 0.26 µs per command at 1 in flight).
 *
 * A corked socket is flushed early every `FLUSH_EVERY` commands, so that the server starts on the
 * first commands of a long turn while the client is still sending the rest. Flushed only at the end
 * of the turn, 64 commands in flight made client and server take turns (the server idle while the
 * client built the next batch, the client idle while the server ran it): SET ×64 ran 127–139k/s
 * and rate-limit scripts ×64 95–107k/s, against 161–179k/s and 186–208k/s flushed every 16 or 32
 * (2-core VM, client and redis-server pinned to a core each, 2026-11-26). Every 32 rather than 16:
 * each `writev` on loopback costs the client about 20 µs (it wakes the server), and at 64 in flight
 * SET ran 1.01–1.28× raw ioredis flushed every 32 against 0.93–1.15× every 16 (every 48: 1.06–1.28×,
 * every 64, the turn's end: 1.08×; same VM, 2026-11-28, all four key sets of the bench).
 *
 * Order is unchanged (one stream, writes kept in call order), each command keeps its own reply
 * and error.
 */
export class Corker {
  private corked: ClientSocket | undefined;
  /** Commands held by the cork now. */
  private held = 0;

  /** Lets a command to an idle connection go out at once; else corks `client`'s socket until the turn ends or `FLUSH_EVERY` commands wait. */
  cork(client: Redis): void {
    const corked = this.corked;
    if (corked !== undefined) {
      // Writes the held commands now (one writev) and holds this one for the next write.
      if (this.held === FLUSH_EVERY) this.flush();
      this.held++;
      return;
    }
    if (awaitingReplies(client) === 0) return;
    const stream = socketOf(client);
    // Not ready: ioredis queues the command offline and writes it on connect, no socket write to join.
    if (client.status !== 'ready' || stream === undefined || !stream.writable) return;
    stream.cork();
    this.corked = stream;
    this.held = 1;
    setImmediate(this.uncork);
  }

  /** Writes what the cork holds now (one `writev`) and goes on holding for the rest of the turn: a command that is a batch by itself need not wait for the turn's end. */
  flush(): void {
    const corked = this.corked;
    if (corked === undefined) return;
    corked.uncork();
    corked.cork();
    this.held = 0;
  }

  private readonly uncork = (): void => {
    const stream = this.corked;
    this.corked = undefined;
    stream?.uncork();
  };
}
