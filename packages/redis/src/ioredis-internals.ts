/**
 * Every use this driver makes of ioredis beyond its documented API, in one file. ioredis stays the
 * product's client; what it does not expose (a command's settled flag, the queue of commands
 * awaiting replies, the connection's socket, the reconnect count) is read here only, and
 * `probeIoredis` checks every piece once, at start-up, against the ioredis copy in use. A piece
 * that is missing turns off only what needs it, and the store falls back to ioredis' public API
 * (its `commandTimeout`/`socketTimeout`, one socket write per command, the configured address);
 * `describe()` lists what is missing and what the store does instead (`client`), and
 * `NODE_DEBUG=larder` prints it. The README ("ioredis internals") lists the pieces and their
 * fallbacks; `test/client-versions.test.ts` runs the probe on the lowest and the highest ioredis
 * the peer range allows.
 */
import { debuglog } from 'node:util';
import { Cluster, Command, Redis } from 'ioredis';
import type { RedisClient } from './options';

/** A command ioredis is sending (opaque: read through this file). */
export type SentCommand = { readonly __sentCommand: true };

/** The connection's socket as the driver uses it (Node's `net.Socket` API). */
export interface ClientSocket {
  readonly bytesRead: number;
  readonly destroyed: boolean;
  readonly writable: boolean;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  cork(): void;
  uncork(): void;
  destroy(error: Error): void;
}

/** What this file reads of an ioredis client (ioredis 5 and 6). */
interface ClientInternals {
  stream?: ClientSocket | null;
  commandQueue?: { readonly length: number; peekBack(): { command: unknown } | undefined };
  retryAttempts?: number;
}

/** What this file reads of an ioredis `Command` (ioredis 6; 5 has no `isSettled`). */
interface CommandInternals {
  isSettled: boolean;
  reject(error: Error): void;
  setTimeout(ms: number): void;
}

/** What the probe found: the missing pieces, and which of the driver's uses of them are on. */
export interface IoredisProbe {
  /** Pieces not found (e.g. `Command#isSettled`); empty when every one is there. */
  readonly missing: readonly string[];
  /** One timer per client instead of ioredis' timers per command (`command-deadlines.ts`). */
  readonly deadlines: boolean;
  /** A turn's commands corked into one socket write (`cork.ts`). */
  readonly corking: boolean;
  /** Cluster commands timed from when they are submitted, not only once a node sends them. */
  readonly clusterSubmitTimeouts: boolean;
  /** A client reconnecting after two failed attempts fails calls at once (`failures.ts`). */
  readonly reconnectAttempts: boolean;
  /** GET, MGET, SET of text and a batch of tagged writes sent without ioredis copying their arguments (`sendText`). */
  readonly textCommands: boolean;
}

/** The `client` part of the store's description: the client library and what the store does without missing pieces. */
export interface ClientNote {
  library: 'ioredis';
  /** ioredis internals the probe did not find (empty: none missing). */
  missing: string[];
  /** What the store does instead, one line per piece of its own it turned off. */
  fallbacks: string[];
}

const debug = debuglog('larder');
const isFunction = (value: unknown): boolean => typeof value === 'function';
/** Pieces found missing on a live connection (the socket exists only once connected). */
const missingLive = new Set<string>();
let classMissing: string[] | undefined;
let probed: IoredisProbe | undefined;

/** Checks every private part of the ioredis copy in use, once per process (the socket: when each client connects). */
export function probeIoredis(): IoredisProbe {
  if (probed !== undefined) return probed;
  classMissing ??= missingPieces();
  const missing = [...classMissing, ...missingLive];
  const has = (...pieces: string[]) => pieces.every((piece) => !missing.includes(piece));
  probed = {
    missing,
    deadlines: has(
      'Redis#sendCommand',
      'Redis#duplicate',
      'Command#isSettled',
      'Command#reject',
      'Redis#commandQueue.peekBack',
      'Redis#stream',
    ),
    corking: has('Redis#commandQueue.length', 'Redis#stream'),
    clusterSubmitTimeouts: has('Cluster#sendCommand', 'Command#setTimeout'),
    reconnectAttempts: has('Redis#retryAttempts'),
    textCommands: has('Command#args'),
  };
  if (missing.length > 0) debug('ioredis internals missing: %s; %s', missing.join(', '), fallbacks(probed).join('; '));
  return probed;
}

/** The pieces the classes and a never-connected client of this ioredis lack. */
function missingPieces(): string[] {
  const missing: string[] = [];
  const need = (ok: boolean, piece: string) => {
    if (!ok) missing.push(piece);
  };
  need(isFunction(Redis.prototype.sendCommand), 'Redis#sendCommand');
  need(isFunction(Redis.prototype.duplicate), 'Redis#duplicate');
  need(isFunction(Cluster.prototype.sendCommand), 'Cluster#sendCommand');
  const command = new Command('PING', []) as unknown as Partial<CommandInternals>;
  need(command.isSettled === false, 'Command#isSettled');
  need(isFunction(command.reject), 'Command#reject');
  need(isFunction(command.setTimeout), 'Command#setTimeout');
  // Arguments set once a command is built are the ones it writes (`sendText`).
  const text = new Command('ECHO', []) as unknown as { args: string[]; toWritable?: (socket?: unknown) => unknown };
  text.args = ['larder-probe'];
  need(isFunction(text.toWritable) && String(text.toWritable?.()).includes('larder-probe'), 'Command#args');
  // A client that never connects (lazyConnect, no command sent): no socket, no timer.
  const client = new Redis({ lazyConnect: true }) as unknown as ClientInternals;
  need(isFunction(client.commandQueue?.peekBack), 'Redis#commandQueue.peekBack');
  need(typeof client.commandQueue?.length === 'number', 'Redis#commandQueue.length');
  need(typeof client.retryAttempts === 'number', 'Redis#retryAttempts');
  return missing;
}

function fallbacks(probe: IoredisProbe): string[] {
  const out: string[] = [];
  if (!probe.deadlines) out.push("command timeouts: ioredis' commandTimeout and socketTimeout (timers per command)");
  if (!probe.corking) out.push('coalesceWrites: off (one socket write per command)');
  if (!probe.clusterSubmitTimeouts) out.push('Cluster: a command queued while no node is ready has no timeout');
  if (!probe.reconnectAttempts) out.push('a reconnecting client fails calls at once (the attempts are not known)');
  if (!probe.textCommands) out.push("GET, MGET, SET and tagged writes through ioredis' generic command path");
  if (probe.missing.includes('Redis#stream'))
    out.push('describe(): configured addresses, not connected ones; no Sentinel failover event on larder.topology');
  return out;
}

/** What the probe found, for `describe()`. */
export function clientNote(): ClientNote {
  const probe = probeIoredis();
  return { library: 'ioredis', missing: [...probe.missing], fallbacks: fallbacks(probe) };
}

/** True for an ioredis Cluster (duck-typed, so an injected client from another ioredis copy works too). */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/** Whether commands can be timed by `CommandDeadlines` (the probe found every piece it reads; on `client`, when given). */
export function deadlinesSupported(client?: Redis): boolean {
  if (!probeIoredis().deadlines) return false;
  return client === undefined || isFunction((client as unknown as ClientInternals).commandQueue?.peekBack);
}

/**
 * Hands every command `client` sends to `sent`, instead of ioredis' per-command timers (create the
 * client without `commandTimeout`/`socketTimeout`; they are `ms` here). Clients it `duplicate()`s get
 * ioredis' own timeouts back. If the client's first connection shows no socket where the probe
 * expects one, the client goes back to ioredis' timeouts (read per command) and `sent` is no longer called.
 */
export function timeCommands(client: Redis, ms: number, sent: (command: SentCommand) => void): void {
  let timed = true;
  const send = client.sendCommand;
  // Two named parameters (ioredis' own), not rest args: no array per command on the hot path.
  client.sendCommand = function (this: Redis, command: Parameters<Redis['sendCommand']>[0], stream?: unknown) {
    const reply = send.call(this, command, stream as Parameters<Redis['sendCommand']>[1]);
    if (timed) sent(command as unknown as SentCommand);
    return reply;
  } as Redis['sendCommand'];
  const duplicate = client.duplicate;
  client.duplicate = function (this: Redis, override?: Parameters<Redis['duplicate']>[0]) {
    return duplicate.call(this, { commandTimeout: ms, socketTimeout: ms, ...override });
  } as Redis['duplicate'];
  client.once('connect', () => {
    if (socketOf(client) !== undefined) return;
    timed = false;
    Object.assign(client.options, { commandTimeout: ms, socketTimeout: ms });
    missingLive.add('Redis#stream');
    probed = undefined;
  });
}

/**
 * ioredis starts a command's timeout when a node client sends it, but a Cluster that has no node
 * for it (reconnecting, refreshing slots) queues it with no timeout at all: under a half-open
 * network the call would never settle. Starts the timer when the command is submitted instead
 * (without the pieces it needs, the Cluster keeps ioredis' behaviour).
 */
export function timeClusterSubmits(cluster: Cluster, ms: number): Cluster {
  if (!probeIoredis().clusterSubmitTimeouts) return cluster;
  const send = cluster.sendCommand.bind(cluster);
  cluster.sendCommand = ((command: CommandInternals, ...rest: unknown[]) => {
    command.setTimeout(ms);
    return (send as (...args: unknown[]) => unknown)(command, ...rest);
  }) as Cluster['sendCommand'];
  return cluster;
}

/** Whether ioredis has answered (or failed) `command`. */
export function isSettled(command: SentCommand): boolean {
  return (command as unknown as CommandInternals).isSettled;
}

/** Fails `command` with ioredis' own timeout error (`Command timed out`); nothing if it is settled. */
export function timeOut(command: SentCommand): void {
  (command as unknown as CommandInternals).reject(new Error('Command timed out'));
}

/** The command `client` wrote last and still awaits a reply for (not one queued offline). */
export function lastWritten(client: Redis): SentCommand | undefined {
  return (client as unknown as ClientInternals).commandQueue?.peekBack()?.command as SentCommand | undefined;
}

/** Commands written to `client`'s connection still awaiting their replies (0 if it cannot say). */
export function awaitingReplies(client: Redis): number {
  return (client as unknown as ClientInternals).commandQueue?.length ?? 0;
}

/** The socket of `client`'s current connection, if it has one. */
export function socketOf(client: RedisClient): ClientSocket | undefined {
  const stream = (client as unknown as ClientInternals).stream;
  return stream != null && isFunction(stream.cork) && typeof stream.bytesRead === 'number' ? stream : undefined;
}

/** The server `client` is connected to (Sentinel: the primary found), if connected. */
export function remoteAddress(client: RedisClient): { host: string; port: number } | undefined {
  const socket = socketOf(client);
  if (!socket?.remoteAddress || !socket.remotePort) return undefined;
  return { host: socket.remoteAddress, port: socket.remotePort };
}

/** Failed reconnection attempts of `client` in a row, or `undefined` when this ioredis does not say. */
export function reconnectAttempts(client: RedisClient): number | undefined {
  if (!probeIoredis().reconnectAttempts) return undefined;
  const attempts = (client as unknown as ClientInternals).retryAttempts;
  return typeof attempts === 'number' ? attempts : undefined;
}

/**
 * Sends `name` with `args` as one ioredis command without ioredis copying them: its `Command`
 * flattens its arguments (`Array.prototype.flat`, about 65 ns an argument on Node 20: 30 µs for
 * a batch of tagged writes' 470). The arguments are set once the command is built, which also
 * skips ioredis' pass that turns numbers into text and marks Buffers: text only. A client with a
 * `keyPrefix` or friendly error stacks, and a Cluster, get ioredis' own command (it prefixes keys,
 * keeps a stack, routes by slot).
 */
export function sendText(client: Redis, name: string, args: string[]): Promise<unknown> {
  const { keyPrefix, showFriendlyErrorStack } = client.options;
  if (keyPrefix || showFriendlyErrorStack || isCluster(client) || !probeIoredis().textCommands)
    return client.call(name, args);
  const command = new Command(name, [], { replyEncoding: 'utf8' });
  command.args = args;
  client.sendCommand(command);
  return command.promise;
}
