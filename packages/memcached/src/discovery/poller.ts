import { EventEmitter } from 'node:events';
import type tls from 'node:tls';
import { BackendError, ConfigError } from '@larder/core';
import { formatAddress, type NodeAddress } from '../options';
import { askEndpoint } from './endpoint-client';
import type { ClusterConfig, ClusterNode } from './parse-config';

/** Poller settings. */
export interface PollerOptions {
  intervalMs: number;
  /** Attempts per poll. */
  retries: number;
  timeoutMs: number;
  tls?: tls.ConnectionOptions;
  ignoreClusterErrors: boolean;
}

/** The endpoint answered neither `config get cluster` nor `get AmazonElastiCache:cluster`. */
export class NotAConfigEndpointError extends Error {
  override name = 'NotAConfigEndpointError';
}

/** A topology change the poller applied. */
export interface TopologyEvent {
  version: number;
  nodes: ClusterNode[];
  /** `config` (engine ≥ 1.4.14), `legacy` (`get AmazonElastiCache:cluster`) or `endpoint-only` (IGNORE_CLUSTER_ERRORS fallback). */
  source: 'config' | 'legacy' | 'endpoint-only';
}

const RETRY_BACKOFF_MS = 100;

/**
 * ElastiCache auto-discovery. The first poll runs at `start()`, then one every interval on an
 * unref'd timer (it never keeps the process alive). A node list is applied only when its
 * config version is higher than the last applied one. A failed poll is retried a few times,
 * then reported with a `discoveryError` event while the last good list keeps serving.
 *
 * Events: `topology` (TopologyEvent), `discoveryError` (Error).
 */
export class DiscoveryPoller extends EventEmitter {
  private version = Number.NEGATIVE_INFINITY;
  private legacy = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private polling: Promise<void> | undefined;
  private started = false;
  private last: { at: number; ok: boolean } | undefined;

  constructor(
    private readonly endpoint: NodeAddress,
    private readonly options: PollerOptions,
  ) {
    super();
  }

  /** Version of the node list in use (-Infinity before the first list). */
  get currentVersion(): number {
    return this.version;
  }

  /** When the last poll finished (epoch ms) and whether it got an answer; undefined before the first. */
  get lastPoll(): { at: number; ok: boolean } | undefined {
    return this.last;
  }

  /** Runs the first poll (its failure rejects, unless ignoreClusterErrors) and starts the timer. */
  async start(): Promise<void> {
    try {
      const config = await this.fetchWithRetries();
      this.apply(config, this.legacy ? 'legacy' : 'config');
    } catch (error) {
      if (this.options.ignoreClusterErrors) {
        // django-elasticache's IGNORE_CLUSTER_ERRORS: the endpoint itself is the only node.
        this.emit('discoveryError', error);
        const { host, port } = this.endpoint;
        this.apply({ version: -1, nodes: [{ host, ip: '', port }] }, 'endpoint-only');
      } else {
        throw this.describe(error);
      }
    }
    this.started = true;
    this.schedule();
  }

  /** Polls now (tests, or after a suspected change); resolves when applied or reported. */
  poll(): Promise<void> {
    this.polling ??= this.fetchWithRetries()
      .then(
        (config) => this.apply(config, this.legacy ? 'legacy' : 'config'),
        (error) => {
          if (!this.stopped) this.emit('discoveryError', this.describe(error));
        },
      )
      .finally(() => {
        this.polling = undefined;
      });
    return this.polling;
  }

  /** Stops polling. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.poll().finally(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private apply(config: ClusterConfig, source: TopologyEvent['source']): void {
    if (this.stopped || config.version <= this.version) return;
    this.version = config.version;
    this.emit('topology', { version: config.version, nodes: config.nodes, source } satisfies TopologyEvent);
  }

  private async fetchWithRetries(): Promise<ClusterConfig> {
    let lastError: unknown;
    for (let attempt = 0; attempt < this.options.retries; attempt++) {
      if (attempt > 0) await delay(RETRY_BACKOFF_MS * attempt);
      try {
        const config = await this.fetch();
        this.last = { at: Date.now(), ok: true };
        return config;
      } catch (error) {
        lastError = error;
        // A plain memcached will not start speaking the protocol on a retry.
        if (error instanceof NotAConfigEndpointError || this.stopped) break;
      }
    }
    this.last = { at: Date.now(), ok: false };
    throw lastError;
  }

  private async fetch(): Promise<ClusterConfig> {
    const ask = (command: string) =>
      askEndpoint(this.endpoint, command, {
        timeoutMs: this.options.timeoutMs,
        tls: this.options.tls,
        unref: this.started,
      });
    if (!this.legacy) {
      const answer = await ask('config get cluster');
      if (answer.kind === 'config') return answer.config;
    }
    // Engines before 1.4.14 publish the same payload under a key.
    const legacy = await ask('get AmazonElastiCache:cluster');
    if (legacy.kind === 'config') {
      this.legacy = true;
      return legacy.config;
    }
    throw new NotAConfigEndpointError(
      `${formatAddress(this.endpoint)} answered neither 'config get cluster' nor 'get AmazonElastiCache:cluster'`,
    );
  }

  private describe(error: unknown): Error {
    const where = formatAddress(this.endpoint);
    if (error instanceof NotAConfigEndpointError) {
      return new ConfigError(
        `memcached: configEndpoint ${where} is not an ElastiCache configuration endpoint (${error.message}); ` +
          'point it at the cluster configuration endpoint, use servers for plain memcached, or set ignoreClusterErrors',
        'configEndpoint',
      );
    }
    return new BackendError(`memcached: discovery on ${where} failed: ${(error as Error)?.message}`, 'memcached', {
      cause: error,
    });
  }
}

/** Connect address of a discovered node: its ip when printed, else its host name. */
export function nodeAddress(node: ClusterNode): NodeAddress {
  return { host: node.ip || node.host, port: node.port };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
