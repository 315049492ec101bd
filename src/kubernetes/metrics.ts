/**
 * How Prometheus finds the metrics port (src/nginx/metrics.ts): the port's
 * name on the pod and the Service, and the `prometheus.io/*` annotations that
 * the usual scrape configs (pod and endpoints roles) select by.
 */
import { METRICS_PATH } from "../nginx/metrics";

export const METRICS_PORT_NAME = "metrics";

/** The annotations that say where to scrape, or none without a metrics port. */
export function prometheusAnnotations(metricsPort: number | undefined): Record<string, string> {
  if (metricsPort === undefined) return {};
  return {
    "prometheus.io/scrape": "true",
    "prometheus.io/port": String(metricsPort),
    "prometheus.io/path": METRICS_PATH,
  };
}
