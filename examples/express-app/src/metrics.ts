import type { Cache } from '@larder/core';
import { instrumentLarder } from '@larder/otel';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { Request, Response } from 'express';

/** `/metrics` in Prometheus text format: @larder/otel's metrics through OpenTelemetry's Prometheus exporter (no server of its own). */
export function prometheusMetrics(caches: Cache[]): {
  handler: (req: Request, res: Response) => void;
  close: () => Promise<void>;
} {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [exporter] });
  // `caches`: their L1 size is reported as larder_l1_entries.
  const otel = instrumentLarder({ meterProvider, caches });
  return {
    handler: (req, res) => exporter.getMetricsRequestHandler(req, res),
    async close() {
      otel.disable();
      await meterProvider.shutdown();
    },
  };
}
