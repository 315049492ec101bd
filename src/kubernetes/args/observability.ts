/**
 * What the registry tells its operators: the pull log on the nginx
 * container's stdout (read with `kubectl logs`) and, on a port of its own,
 * Prometheus metrics (src/nginx/accessLog.ts, src/nginx/metrics.ts).
 */
import { ACCESS_LOG_FORMATS, DEFAULT_ACCESS_LOG_FORMAT, type AccessLogFormat } from "../../nginx/accessLog";
import { isInt, isOutputOrPromise, type ArgTable } from "./common";

/** The pull log and the metrics. */
export interface ObservabilityArgs {
  /**
   * The request log on nginx's stdout: `json` (default; one object per
   * request: time, client, method, repository, reference, digest, status,
   * bytes, duration, user agent), `combined` (nginx's line) or `off`. Plain:
   * rendered into the nginx config.
   */
  accessLog?: string;
  /**
   * A port (1-65535, not `port`) on which the pods answer Prometheus text at
   * `/metrics` (nginx's connection and request counters). The pods and the
   * Service expose it as `metrics`, with `prometheus.io/scrape`, `/port` and
   * `/path` annotations. Default: no metrics. Plain: rendered into the nginx config.
   */
  metricsPort?: number;
}

export const OBSERVABILITY_ARGS: ArgTable<ObservabilityArgs> = {
  accessLog: "it is rendered into the nginx config",
  metricsPort: "it is rendered into the nginx config",
};

export interface ResolvedObservability {
  accessLog: AccessLogFormat;
  metricsPort?: number;
}

/** Checks the pull log's format and the metrics port (against the registry's `port`), pushing every problem. */
export function checkObservability(
  args: ObservabilityArgs,
  port: number,
  problems: string[],
): ResolvedObservability {
  const accessLog = args.accessLog ?? DEFAULT_ACCESS_LOG_FORMAT;
  if (!isOutputOrPromise(accessLog) && !ACCESS_LOG_FORMATS.includes(accessLog as AccessLogFormat)) {
    problems.push(
      `accessLog must be ${ACCESS_LOG_FORMATS.map((f) => `"${f}"`).join(", ")}, not ${JSON.stringify(args.accessLog)}`,
    );
  }
  const m = args.metricsPort;
  if (m !== undefined && !isOutputOrPromise(m)) {
    if (!isInt(m) || m < 1 || m > 65535) problems.push(`metricsPort must be a port (1-65535), not ${m}`);
    else if (m === port) problems.push(`metricsPort ${m} must differ from port ${port}`);
  }
  return { accessLog: accessLog as AccessLogFormat, ...(m !== undefined ? { metricsPort: m } : {}) };
}
