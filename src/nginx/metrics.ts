/**
 * Metrics: Prometheus text on a port of their own, made from nginx's own
 * counters (the stub_status module: connections accepted, handled, active,
 * reading, writing, waiting, and requests). A small njs handler fetches the
 * stub_status page by subrequest and rewrites it; the names are those of
 * nginx-prometheus-exporter, so its dashboards and alerts apply as they are.
 *
 * Nothing here runs on the registry's port: a scrape is one request to the
 * metrics server, and manifests and blobs stay plain nginx. Counts per status
 * or per kind of object are not kept: nginx has no counter for them, and njs
 * could keep one (shared dictionaries, njs 0.8 and later) only by running for
 * every request — the pull log (accessLog.ts) has those fields instead.
 *
 * The handler is ES5 and uses what njs 0.7 (Debian) and later share.
 */
import { token } from "./escape";
import { checkListen } from "./options";

/** The metrics module's file name, next to nginx.conf. */
export const METRICS_JS_FILE = "static-container-registry-metrics.js";

/** The path of the metrics on the metrics port. */
export const METRICS_PATH = "/metrics";

/** The stub_status page, internal to the metrics server. */
const STUB_STATUS_URI = "/_static-container-registry/stub_status";

export const METRICS_NJS_MODULE = `// static-container-registry: Prometheus text from nginx's stub_status. Generated; do not edit.

var COUNTERS = [
    ["nginx_connections_accepted", "counter", "Accepted client connections."],
    ["nginx_connections_handled", "counter", "Handled client connections."],
    ["nginx_http_requests_total", "counter", "Total http requests."]
];
var GAUGES = [
    ["nginx_connections_active", "gauge", "Active client connections."],
    ["nginx_connections_reading", "gauge", "Connections where nginx is reading the request header."],
    ["nginx_connections_writing", "gauge", "Connections where nginx is writing the response back to the client."],
    ["nginx_connections_waiting", "gauge", "Idle client connections."]
];

function metric(m, value) {
    return "# HELP " + m[0] + " " + m[2] + "\\n# TYPE " + m[0] + " " + m[1] + "\\n" + m[0] + " " + value + "\\n";
}

// stub_status: "Active connections: A \\nserver accepts handled requests\\n B C D \\nReading: E Writing: F Waiting: G \\n"
function parse(text) {
    var m = /Active connections:\\s*(\\d+)\\s+server accepts handled requests\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+Reading:\\s*(\\d+)\\s+Writing:\\s*(\\d+)\\s+Waiting:\\s*(\\d+)/.exec(text || "");
    return m ? { active: m[1], accepted: m[2], handled: m[3], requests: m[4], reading: m[5], writing: m[6], waiting: m[7] } : null;
}

function render(s) {
    var up = ["nginx_up", "gauge", "Whether nginx's stub_status could be read (1) or not (0)."];
    if (!s) return metric(up, 0);
    return metric(up, 1) +
        metric(COUNTERS[0], s.accepted) + metric(COUNTERS[1], s.handled) + metric(COUNTERS[2], s.requests) +
        metric(GAUGES[0], s.active) + metric(GAUGES[1], s.reading) + metric(GAUGES[2], s.writing) +
        metric(GAUGES[3], s.waiting);
}

function metrics(r) {
    r.subrequest("${STUB_STATUS_URI}", function (reply) {
        r.return(200, render(reply.status === 200 ? parse(reply.responseText) : null));
    });
}

export default { metrics: metrics, parse: parse, render: render };
`;

/**
 * The http-context text of the metrics server: the module's import and the
 * server, listening on `listen` (checked like the registry's). The module
 * path is relative to nginx's config dir.
 */
export function metricsServerText(listen: string): string {
  return `# Metrics (metrics.ts): Prometheus text at ${METRICS_PATH}, from stub_status.
js_import scr_metrics from ${token(METRICS_JS_FILE)};

server {
    listen ${checkListen(listen)};
    server_name _;
    # A scrape is not a pull.
    access_log off;
    types {}
    default_type text/plain;

    location = ${METRICS_PATH} {
        default_type "text/plain; version=0.0.4; charset=utf-8";
        js_content scr_metrics.metrics;
    }
    location = ${STUB_STATUS_URI} {
        internal;
        stub_status;
    }
    location / {
        return 404;
    }
}
`;
}
