/**
 * What the pull log and the metrics cost the hot path: the product's
 * standalone config rendered four ways — the JSON pull log (the default),
 * no access log, nginx's combined line, and the JSON log with the metrics
 * server scraped every second — side by side on the server core, taking
 * turns run by run (the order rotating each round), on manifest GET by tag,
 * manifest GET by digest and a small blob GET. The target: each within 5 %
 * of "no access log" in the same run. Writes bench/out/observability.json and
 * prints the markdown table kept in bench/notes.md.
 *
 *   npm run build && node dist/bench/observability.js [--runs N] [--duration S]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { scan } from "../src/inventory";
import { freePort } from "../test/support/tools";
import { buildFixtureTree } from "../test/fixtures/build";
import { load, type LoadResult, type Target } from "./lib/load";
import { merge as mergeRuns } from "./serving";
import { probe } from "./lib/proc";
import { ACCEPT_MANIFESTS } from "./serving";
import { startOurs, type OursOptions, type OursRunning } from "./servers";

interface Variant {
  name: string;
  render: NonNullable<OursOptions["render"]>;
  /** Scrape /metrics on this port every second while loaded. */
  scrape?: boolean;
}

const BASELINE = "no access log";

function args() {
  const o = { runs: 5, durationS: 3, warmupS: 1 };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === "--runs") o.runs = Number(a[++i]);
    else if (a[i] === "--duration") o.durationS = Number(a[++i]);
    else throw new Error(`unknown argument ${a[i]}`);
  }
  return o;
}

async function main() {
  const o = args();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "scr-bench-obs-"));
  fs.chmodSync(work, 0o755); // nginx workers run as nobody
  const root = path.join(work, "images");
  const images = await buildFixtureTree(root);
  const inv = await scan(root);
  const busybox = images.find((i) => i.reference === "busybox:1.36")!;
  const variants: Variant[] = [
    { name: BASELINE, render: { accessLogFormat: "off" } },
    { name: "JSON pull log (default)", render: { accessLogFormat: "json" } },
    { name: "combined log", render: { accessLogFormat: "combined" } },
    {
      name: "JSON pull log + metrics scraped every 1 s",
      render: { accessLogFormat: "json", metricsListen: `127.0.0.1:${await freePort()}` },
      scrape: true,
    },
  ];
  const servers: { v: Variant; s: OursRunning }[] = [];
  const accept = { Accept: ACCEPT_MANIFESTS };
  const scenarios: { id: string; title: string; target: Omit<Target, "port"> }[] = [
    {
      id: "manifest-get-tag",
      title: "manifest GET by tag",
      target: { method: "GET", path: "/v2/busybox/manifests/1.36", headers: accept },
    },
    {
      id: "manifest-get-digest",
      title: "manifest GET by digest",
      target: { method: "GET", path: `/v2/busybox/manifests/${busybox.digest}`, headers: accept },
    },
    {
      id: "small-blob",
      title: `small blob GET (${busybox.config!.size} B)`,
      target: { method: "GET", path: `/v2/busybox/blobs/${busybox.config!.digest}` },
    },
  ];
  const results: { id: string; title: string; byVariant: Record<string, LoadResult> }[] = [];
  try {
    for (const [i, v] of variants.entries()) {
      // Each server's stdout (its access log) goes to a file, as under a supervisor.
      servers.push({ v, s: await startOurs(root, work, `obs-${i}`, { inventory: inv, render: v.render }) });
    }
    for (const sc of scenarios) {
      const runsOf = new Map<string, LoadResult[]>();
      const one = async (x: (typeof servers)[number], durationS: number) => {
        const metricsPort = x.v.render.metricsListen && Number(x.v.render.metricsListen.split(":")[1]);
        const scraper =
          x.v.scrape && metricsPort
            ? setInterval(() => void probe(metricsPort, "GET", "/metrics").catch(() => undefined), 1000)
            : undefined;
        try {
          return await load(
            { port: x.s.port, ...sc.target },
            { durationS, warmupS: 0, runs: 1, connections: 16, serverPids: x.s.cpuPids, workDir: work },
          );
        } finally {
          if (scraper) clearInterval(scraper);
        }
      };
      for (const x of servers) await one(x, o.warmupS);
      for (let r = 0; r < o.runs; r++) {
        // Rotate who goes first, so no variant always follows the same one.
        const order = servers.map((_, k) => servers[(k + r) % servers.length]);
        for (const x of order)
          runsOf.set(x.v.name, [...(runsOf.get(x.v.name) ?? []), await one(x, o.durationS)]);
      }
      const byVariant = Object.fromEntries([...runsOf].map(([k, rs]) => [k, mergeRuns(rs)]));
      results.push({ id: sc.id, title: sc.title, byVariant });
      process.stderr.write(
        `${sc.id}: ${variants.map((v) => `${v.name} p50 ${Math.round(byVariant[v.name].p50us.median)} µs`).join(", ")}\n`,
      );
    }
    // The metrics variant was scraped: check it answered and counted.
    const m = servers.find((x) => x.v.scrape)!;
    const text = await (await fetch(`http://${m.v.render.metricsListen}/metrics`)).text();
    if (!/^nginx_http_requests_total \d+$/m.test(text))
      throw new Error(`no request counter in /metrics:\n${text}`);
  } finally {
    for (const x of servers.reverse()) await x.s.stop();
  }
  fs.mkdirSync(path.join(__dirname, "..", "..", "bench", "out"), { recursive: true });
  fs.writeFileSync(
    path.join(__dirname, "..", "..", "bench", "out", "observability.json"),
    JSON.stringify({ date: new Date().toISOString(), options: o, results }, null, 2),
  );
  process.stdout.write(table(results, variants, o));
  fs.rmSync(work, { recursive: true, force: true });
}

function table(
  results: { title: string; byVariant: Record<string, LoadResult> }[],
  variants: Variant[],
  o: { runs: number; durationS: number },
): string {
  const rows = [
    `Measured ${new Date().toISOString()}, ${o.runs} × ${o.durationS} s per variant and request, wrk -c16, the variants taking turns.`,
    "p50 latency, req/s and server CPU per request (medians); *÷ off* is this variant's p50 over the no-log variant's (≤ 1.05 is the target) and its CPU per request over that variant's.",
    "",
    "| request | variant | p50 | req/s | server CPU µs/req | p50 ÷ off | CPU ÷ off |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of results) {
    const base = r.byVariant[BASELINE];
    for (const v of variants) {
      const x = r.byVariant[v.name];
      rows.push(
        `| ${r.title} | ${v.name} | ${Math.round(x.p50us.median)} µs | ${Math.round(x.rps.median).toLocaleString("en")} | ${x.serverCpuUsPerReq.median.toFixed(1)} | ${(x.p50us.median / base.p50us.median).toFixed(2)} | ${(x.serverCpuUsPerReq.median / base.serverCpuUsPerReq.median).toFixed(2)} |`,
      );
    }
  }
  return rows.join("\n") + "\n";
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`);
  process.exitCode = 1;
});
