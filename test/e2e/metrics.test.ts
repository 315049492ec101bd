/**
 * Metrics as Prometheus scrapes them: `serve --metrics-listen` answers
 * `/metrics` on its own port with text a Prometheus text parser reads, the
 * request counter moves by exactly the requests made (the scrape itself is
 * one), and the registry's port does not answer it.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, describe, test } from "node:test";
import { freePort } from "../support/tools";
import { buildFixtures, once, request, startRegistry, stopAll, tools } from "./harness";

interface Family {
  name: string;
  help: string;
  type: string;
  metrics: { value: string; labels?: Record<string, string> }[];
}
const parsePrometheus = createRequire(__filename)("parse-prometheus-text-format") as (
  text: string,
) => Family[];

const fixtures = once(buildFixtures);
after(stopAll);

async function scrape(port: number): Promise<Map<string, Family>> {
  const r = await request(port, "GET", "/metrics");
  assert.equal(r.status, 200, r.body.toString());
  assert.equal(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  const text = r.body.toString();
  assert.ok(text.endsWith("\n"), "the exposition ends with a newline");
  // The parser is lenient; the format's line grammar, for what we write (no labels, no timestamps).
  for (const line of text.slice(0, -1).split("\n")) {
    assert.match(
      line,
      /^(?:# HELP [a-zA-Z_:][a-zA-Z0-9_:]* \S.*|# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (?:counter|gauge)|[a-zA-Z_:][a-zA-Z0-9_:]* \d+)$/,
    );
  }
  return new Map(parsePrometheus(text).map((f) => [f.name, f]));
}

const value = (families: Map<string, Family>, name: string) => {
  const f = families.get(name);
  assert.ok(f, `${name} is exposed`);
  assert.equal(f.metrics.length, 1);
  return Number(f.metrics[0].value);
};

describe("metrics", () => {
  test("/metrics on its own port: Prometheus text from nginx's counters", async (t) => {
    if (!tools(t, "nginx")) return;
    const fx = await fixtures();
    const metricsPort = await freePort();
    const reg = await startRegistry(fx.root, ["--metrics-listen", `127.0.0.1:${metricsPort}`]);

    const first = await scrape(metricsPort);
    assert.equal(value(first, "nginx_up"), 1);
    const types = Object.fromEntries([...first.values()].map((f) => [f.name, f.type]));
    assert.deepEqual(types, {
      nginx_up: "GAUGE",
      nginx_connections_accepted: "COUNTER",
      nginx_connections_handled: "COUNTER",
      nginx_http_requests_total: "COUNTER",
      nginx_connections_active: "GAUGE",
      nginx_connections_reading: "GAUGE",
      nginx_connections_writing: "GAUGE",
      nginx_connections_waiting: "GAUGE",
    });
    for (const f of first.values()) assert.ok(f.help.length > 0, `${f.name} has a HELP line`);
    // This scrape is being written while it is counted.
    assert.ok(value(first, "nginx_connections_active") >= 1);
    assert.ok(value(first, "nginx_connections_writing") >= 1);

    const img = fx.images.find((i) => i.reference === "library/alpine:3.19")!;
    const made = [
      ["GET", `/v2/${img.repo}/manifests/${img.tag}`, 200],
      ["HEAD", `/v2/${img.repo}/manifests/${img.digest}`, 200],
      ["GET", `/v2/${img.repo}/blobs/${img.layers[0].digest}`, 200],
      ["GET", `/v2/${img.repo}/manifests/missing`, 404],
      ["GET", "/v2/_catalog", 200],
      ["DELETE", `/v2/${img.repo}/manifests/${img.tag}`, 405],
      ["GET", "/v2/", 200],
    ] as const;
    for (const [method, url, status] of made)
      assert.equal((await request(reg.port, method, url)).status, status, `${method} ${url}`);
    const second = await scrape(metricsPort);
    assert.equal(
      value(second, "nginx_http_requests_total") - value(first, "nginx_http_requests_total"),
      made.length + 1,
      "the requests made, and the second scrape",
    );
    // One connection per request (no keep-alive in request()), and one for the scrape.
    assert.equal(
      value(second, "nginx_connections_accepted") - value(first, "nginx_connections_accepted"),
      made.length + 1,
    );

    assert.equal((await request(metricsPort, "GET", "/")).status, 404);
    assert.equal((await request(metricsPort, "GET", "/_static-container-registry/stub_status")).status, 404);
    const onRegistry = await request(reg.port, "GET", "/metrics");
    assert.equal(onRegistry.status, 404, "the registry's port serves no metrics");
  });
});
