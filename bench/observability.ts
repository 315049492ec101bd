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
 *
 * With --callgrind, instead: each variant's nginx runs as one process
 * (master_process off) under valgrind's callgrind, and the instructions it
 * executes for N requests of each kind (counters zeroed after a warm-up,
 * dumped after the N) are counted. Unlike time, the count does not depend on
 * what else the machine runs; it leaves out the kernel's share (the socket
 * I/O, the same for every variant, and the log's buffered writes).
 *
 *   npm run build && node dist/bench/observability.js --callgrind [--requests N]
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { scan } from "../src/inventory";
import { freePort } from "../test/support/tools";
import { buildFixtureTree } from "../test/fixtures/build";
import { load, type LoadResult, type Target } from "./lib/load";
import { merge as mergeRuns } from "./serving";
import { probe, waitFor200 } from "./lib/proc";
import { renderStandalone } from "./render";
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
  const o = { runs: 5, durationS: 3, warmupS: 1, callgrind: false, requests: 2000 };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === "--runs") o.runs = Number(a[++i]);
    else if (a[i] === "--duration") o.durationS = Number(a[++i]);
    else if (a[i] === "--callgrind") o.callgrind = true;
    else if (a[i] === "--requests") o.requests = Number(a[++i]);
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
      name: "JSON pull log + metrics server",
      render: { accessLogFormat: "json", metricsListen: `127.0.0.1:${await freePort()}` },
      scrape: true,
    },
  ];
  const servers: { v: Variant; s: OursRunning }[] = [];
  const accept = { Accept: ACCEPT_MANIFESTS };
  const scenarios: Scenario[] = [
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
  if (o.callgrind) {
    process.stdout.write(await countInstructions(root, work, inv, variants, scenarios, o.requests));
    fs.rmSync(work, { recursive: true, force: true });
    return;
  }
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

type Scenario = { id: string; title: string; target: Omit<Target, "port"> };

/** Instructions per request of each variant and scenario, counted by callgrind (see the header). */
async function countInstructions(
  root: string,
  work: string,
  inv: Awaited<ReturnType<typeof scan>>,
  variants: Variant[],
  scenarios: Scenario[],
  n: number,
): Promise<string> {
  const perRequest: Record<string, Record<string, number>> = {};
  let scrape: number | undefined;
  for (const [i, v] of variants.entries()) {
    const dir = path.join(work, `cg-${i}`);
    const configDir = path.join(dir, "conf");
    const runtimeDir = path.join(dir, "run");
    fs.mkdirSync(configDir, { recursive: true });
    fs.mkdirSync(runtimeDir, { recursive: true });
    const port = await freePort();
    const rendered = renderStandalone(inv, {
      listen: `127.0.0.1:${port}`,
      runtimeDir,
      configDir,
      workerProcesses: 1,
      ...v.render,
    });
    for (const [name, text] of Object.entries(rendered.files))
      fs.writeFileSync(path.join(configDir, name), text);
    const log = fs.openSync(path.join(dir, "nginx.log"), "a");
    const child = spawn(
      "valgrind",
      [
        "--tool=callgrind",
        "nginx",
        "-c",
        path.join(configDir, rendered.main),
        "-p",
        runtimeDir,
        "-e",
        "stderr",
        "-g",
        "master_process off;",
      ],
      { cwd: dir, stdio: ["ignore", log, log] },
    );
    fs.closeSync(log);
    const pid = child.pid!;
    const dumps = () => fs.readdirSync(dir).filter((f) => /^callgrind\.out\.\d+\.\d+$/.test(f));
    /** Zeroes the counters, runs `fn`, dumps: the instructions `fn`'s requests took. */
    const count = async (fn: () => void): Promise<number> => {
      execFileSync("callgrind_control", ["-z", String(pid)], { stdio: "ignore" });
      const before = new Set(dumps());
      fn();
      execFileSync("callgrind_control", ["-d", String(pid)], { stdio: "ignore" });
      const file = dumps().find((f) => !before.has(f));
      if (!file) throw new Error(`no callgrind dump in ${dir}`);
      const m = /^(?:summary|totals): (\d+)/m.exec(fs.readFileSync(path.join(dir, file), "utf8"));
      if (!m) throw new Error(`no instruction total in ${file}`);
      return Number(m[1]);
    };
    try {
      await waitFor200(port, "/v2/", performance.now(), 120_000);
      perRequest[v.name] = {};
      for (const sc of scenarios) {
        const hey = (requests: number) => {
          const headers = Object.entries(sc.target.headers ?? {}).flatMap(([k, val]) => [
            "-H",
            `${k}: ${val}`,
          ]);
          execFileSync(
            "hey",
            [
              "-n",
              String(requests),
              "-c",
              "4",
              "-m",
              sc.target.method,
              ...headers,
              `http://127.0.0.1:${port}${sc.target.path}`,
            ],
            {
              stdio: "ignore",
            },
          );
        };
        hey(200); // warm-up: open file cache, connections
        perRequest[v.name][sc.id] = (await count(() => hey(n))) / n;
      }
      if (v.render.metricsListen && scrape === undefined) {
        const url = `http://${v.render.metricsListen}/metrics`;
        scrape = await count(() => execFileSync("curl", ["-sf", "-o", "/dev/null", url]));
      }
    } finally {
      child.kill("SIGQUIT");
      await new Promise((r) => child.once("exit", r));
    }
  }
  const rows = [
    `Measured ${new Date().toISOString()}: instructions the nginx process executed per request (callgrind, ${n} requests of each kind after a warm-up, hey -c4, keep-alive), and over the no-log variant's.`,
    "",
    "| request | " + variants.map((v) => v.name).join(" | ") + " |",
    "| --- | " + variants.map(() => "---").join(" | ") + " |",
  ];
  for (const sc of scenarios) {
    const base = perRequest[BASELINE][sc.id];
    rows.push(
      `| ${sc.title} | ` +
        variants
          .map((v) => {
            const x = perRequest[v.name][sc.id];
            return `${Math.round(x).toLocaleString("en")} (${(x / base).toFixed(3)} ×)`;
          })
          .join(" | ") +
        " |",
    );
  }
  if (scrape !== undefined)
    rows.push(
      "",
      `One scrape of /metrics (the njs handler and its stub_status subrequest): ${Math.round(scrape).toLocaleString("en")} instructions.`,
    );
  return rows.join("\n") + "\n";
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
