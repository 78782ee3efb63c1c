import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** A metric reader the test collects on demand. */
class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** In-memory OpenTelemetry: spans in `exporter`, metrics on `collect()`, and `inParent` to run under a parent span. */
export function otelHarness() {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const tracer = tracerProvider.getTracer('test');
  return {
    exporter,
    tracerProvider,
    meterProvider,
    /** Runs `fn` inside a parent span `request`. */
    inParent<T>(fn: () => Promise<T>): Promise<T> {
      return tracer.startActiveSpan('request', async (span) => {
        try {
          return await fn();
        } finally {
          span.end();
        }
      });
    },
    /** Every data point of metric `name`. */
    async points(name: string): Promise<DataPoint<unknown>[]> {
      const { resourceMetrics } = await reader.collect();
      return pointsOf(resourceMetrics, name);
    },
    async close() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      context.disable();
      trace.disable();
    },
  };
}

function pointsOf(resourceMetrics: ResourceMetrics, name: string): DataPoint<unknown>[] {
  const points: DataPoint<unknown>[] = [];
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) if (metric.descriptor.name === name) points.push(...metric.dataPoints);
  }
  return points;
}

/** Sum of a counter's points matching `attributes`. */
export function total(points: DataPoint<unknown>[], attributes: Record<string, unknown> = {}): number {
  let sum = 0;
  for (const point of points) {
    if (Object.entries(attributes).every(([k, v]) => point.attributes[k] === v)) sum += point.value as number;
  }
  return sum;
}

export type { Histogram };
