/**
 * The metrics module (src/nginx/metrics.ts) run by Node — the very text njs
 * loads (ES5 plus `export default`): nginx's stub_status page becomes
 * Prometheus text with every counter and gauge, and a page it cannot read
 * (stub_status missing or changed) gives `nginx_up 0` and nothing made up.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { METRICS_NJS_MODULE } from "../../src/nginx/metrics";

interface Family {
  name: string;
  type: string;
  metrics: { value: string }[];
}
const parsePrometheus = createRequire(__filename)("parse-prometheus-text-format") as (
  text: string,
) => Family[];

const mod = new Function(METRICS_NJS_MODULE.replace(/^export default /m, "return "))() as {
  parse: (text: string) => Record<string, string> | null;
  render: (s: Record<string, string> | null) => string;
  metrics: (r: unknown) => void;
};

// What nginx 1.22's stub_status answers, byte for byte (trailing spaces included).
const PAGE =
  "Active connections: 3 \nserver accepts handled requests\n 1021 1020 48512 \nReading: 0 Writing: 1 Waiting: 2 \n";

const values = (text: string) =>
  Object.fromEntries(parsePrometheus(text).map((f) => [f.name, [f.type, Number(f.metrics[0].value)]]));

test("stub_status → every counter and gauge, under nginx-prometheus-exporter's names", () => {
  assert.deepEqual(values(mod.render(mod.parse(PAGE))), {
    nginx_up: ["GAUGE", 1],
    nginx_connections_accepted: ["COUNTER", 1021],
    nginx_connections_handled: ["COUNTER", 1020],
    nginx_http_requests_total: ["COUNTER", 48512],
    nginx_connections_active: ["GAUGE", 3],
    nginx_connections_reading: ["GAUGE", 0],
    nginx_connections_writing: ["GAUGE", 1],
    nginx_connections_waiting: ["GAUGE", 2],
  });
});

test("a page it cannot read, or a failed subrequest: nginx_up 0 and no numbers", async () => {
  for (const page of ["", "<html>404 Not Found</html>", "Active connections: 3 \n"]) {
    assert.equal(mod.parse(page), null, JSON.stringify(page));
    assert.deepEqual(values(mod.render(mod.parse(page))), { nginx_up: ["GAUGE", 0] });
  }
  // The handler, with a request object as njs gives it: the subrequest's reply decides.
  const answer = (reply: { status: number; responseText: string }) =>
    new Promise<{ status: number; body: string }>((resolve) =>
      mod.metrics({
        subrequest: (_uri: string, cb: (r: typeof reply) => void) => cb(reply),
        return: (status: number, body: string) => resolve({ status, body }),
      }),
    );
  const ok = await answer({ status: 200, responseText: PAGE });
  assert.equal(ok.status, 200);
  assert.match(ok.body, /^nginx_http_requests_total 48512$/m);
  const failed = await answer({ status: 404, responseText: PAGE });
  assert.equal(failed.status, 200, "the scrape itself succeeds");
  assert.deepEqual(values(failed.body), { nginx_up: ["GAUGE", 0] });
});
