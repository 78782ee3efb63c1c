import { tracingChannel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import type { OperationTraceContext } from '@larder/core';
import {
  type Attributes,
  context,
  metrics,
  type ObservableResult,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { dbSystemName, type InstrumentLarderOptions, keyGroup, serverAttributes } from './options';

const SCOPE = '@larder/otel';
// Cache calls take microseconds in process and milliseconds over the network.
const DURATION_BUCKETS = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  5,
];

/** What `instrumentLarder` returns. */
export interface InstrumentLarder {
  /** Stops listening: no more spans or data points. */
  disable(): void;
  /** Resolves once the servers of `caches` are known (spans name them from then on). */
  readonly ready: Promise<void>;
}

/** One operation in flight. */
interface Pending {
  start: number;
  span: Span | undefined;
  /** The server the context named when the span started. */
  server: string | undefined;
}

/**
 * Subscribes to `larder.operation` and turns every traced facade operation into a span
 * `larder <operation>` (under a parent span by default) and into metrics: the
 * `larder.operation.duration` histogram and the `larder.hits` / `larder.misses` counters.
 */
export function instrumentLarder(options: InstrumentLarderOptions = {}): InstrumentLarder {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);
  const requireParent = options.requireParentSpan ?? true;
  const traceKeys = options.traceKeys === true;
  const duration = meter.createHistogram('larder.operation.duration', {
    description: 'Duration of larder cache operations, per store, operation, tier and outcome',
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  const hits = meter.createCounter('larder.hits', { description: 'Keys a read found', unit: '{key}' });
  const misses = meter.createCounter('larder.misses', { description: 'Keys a read did not find', unit: '{key}' });
  const pending = new WeakMap<OperationTraceContext, Pending>();
  const l1Entries = meter.createObservableGauge('larder.l1.entries', {
    description: 'Entries in the in-process L1 tier, per store',
    unit: '{entry}',
  });
  const caches = options.caches ?? [];
  const observeL1 = async (result: ObservableResult) => {
    for (const cache of caches) {
      const l1 = await cache.describeL1().catch(() => undefined);
      if (l1 !== undefined) result.observe(l1.entries, { 'larder.store': cache.name });
    }
  };
  if (caches.length > 0) l1Entries.addCallback(observeL1);
  // server.address / server.port per store: the first primary (or first node) the store describes.
  const servers = new Map<string, Attributes>();
  const ready = Promise.all(
    caches.map(async (cache) => {
      const nodes = (await cache.describe?.().catch(() => undefined))?.topology.nodes ?? [];
      const node = nodes.find((n) => n.role === 'primary') ?? nodes.find((n) => n.role === 'node');
      if (node === undefined) return;
      servers.set(cache.name, serverAttributes(node.address) as Attributes);
    }),
  ).then(() => undefined);

  const finish = (ctx: OperationTraceContext): void => {
    const state = pending.get(ctx);
    if (state === undefined) return;
    pending.delete(ctx);
    const failed = 'error' in ctx && ctx.error !== undefined;
    const found = typeof ctx.hit === 'number' ? ctx.hit : ctx.hit === true ? 1 : 0;
    const outcome = failed ? 'error' : outcomeOf(ctx);
    const metricAttributes: Attributes = {
      'db.system.name': dbSystemName(ctx.driver),
      'larder.store': ctx.store,
      'larder.operation': ctx.operation,
      'larder.outcome': outcome,
    };
    if (ctx.tier !== undefined) metricAttributes['larder.tier'] = ctx.tier;
    duration.record((performance.now() - state.start) / 1000, metricAttributes);
    if (ctx.hit !== undefined && !failed) {
      const base: Attributes = { 'larder.store': ctx.store, 'larder.operation': ctx.operation };
      if (found > 0) hits.add(found, ctx.tier === undefined ? base : { ...base, 'larder.tier': ctx.tier });
      const missed = typeof ctx.hit === 'number' ? ctx.keyCount - found : ctx.hit ? 0 : 1;
      if (missed > 0) misses.add(missed, base);
    }
    const span = state.span;
    if (span === undefined) return;
    // A store still being created when the span started names its server once it is known.
    if (!servers.has(ctx.store) && state.server === undefined && ctx.server !== undefined) {
      span.setAttributes(serverAttributes(ctx.server) as Attributes);
    }
    if (ctx.hit !== undefined) span.setAttribute('larder.hit', ctx.hit);
    if (ctx.tier !== undefined) span.setAttribute('larder.tier', ctx.tier);
    if (ctx.graced !== undefined) span.setAttribute('larder.graced', ctx.graced);
    if (failed) {
      const error = ctx.error;
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      if (error instanceof Error) span.setAttribute('error.type', (error as { code?: string }).code ?? error.name);
    }
    span.end();
  };

  const handlers = {
    start(message: unknown): void {
      const ctx = message as OperationTraceContext;
      const active = context.active();
      let span: Span | undefined;
      if (!requireParent || trace.getSpan(active) !== undefined) {
        const attributes: Attributes = {
          'db.system.name': dbSystemName(ctx.driver),
          'db.operation.name': ctx.operation,
          'larder.store': ctx.store,
        };
        if (ctx.keyCount > 1) attributes['db.operation.batch.size'] = ctx.keyCount;
        const server = servers.get(ctx.store) ?? serverAttributes(ctx.server);
        if (server !== undefined) Object.assign(attributes, server);
        if (traceKeys && ctx.key !== undefined) attributes['larder.key'] = keyGroup(ctx.key, options.keyGroups);
        span = tracer.startSpan(`larder ${ctx.operation}`, { kind: SpanKind.CLIENT, attributes }, active);
      }
      pending.set(ctx, { start: performance.now(), span, server: ctx.server });
    },
    end(message: unknown): void {
      // A synchronous throw ends the trace here (no asyncEnd follows); a promise ends at asyncEnd.
      const ctx = message as OperationTraceContext;
      if ('error' in ctx) finish(ctx);
    },
    asyncStart(): void {},
    asyncEnd(message: unknown): void {
      finish(message as OperationTraceContext);
    },
    error(): void {},
  };
  const channel = tracingChannel('larder.operation');
  channel.subscribe(handlers);
  let enabled = true;
  return {
    ready,
    disable() {
      if (!enabled) return;
      enabled = false;
      channel.unsubscribe(handlers);
      if (caches.length > 0) l1Entries.removeCallback(observeL1);
    },
  };
}

/** `hit`, `miss` (a batch: `partial` when some keys were found) or `ok` for operations that do not read. */
function outcomeOf(ctx: OperationTraceContext): string {
  if (ctx.hit === undefined) return 'ok';
  if (typeof ctx.hit === 'boolean') return ctx.hit ? 'hit' : 'miss';
  return ctx.hit === 0 ? 'miss' : ctx.hit >= ctx.keyCount ? 'hit' : 'partial';
}
