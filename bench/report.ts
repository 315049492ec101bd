/**
 * bench/RESULTS.md from the results JSON: machine, versions, the exact
 * command, the targets with their measured ratios, then every table.
 */
import type { ListsResult } from "./lists";
import type { FixtureImage } from "../test/fixtures/build";
import { NOISY_CORES, stat, type LoadResult, type Stat } from "./lib/load";
import type { TimedCommand } from "./pull";
import { isFailure, type ScaleFailure, type ScaleResult } from "./scaling";
import type { ScenarioResult, ServerName } from "./serving";
import { TOGGLE_TOLERANCE, pairedRatio, type ToggleResult } from "./toggles";

export interface Meta {
  date: string;
  command: string;
  machine: Record<string, string>;
  versions: Record<string, string>;
  options: Record<string, unknown>;
  loadavg: { start: string; end: string };
  runtimeS: number;
  /** Seconds spent waiting for quiet / repeating disturbed runs. */
  noiseSpentS?: number;
  /** Set when a section failed; the sections before it are still reported. */
  failure?: string;
  /** Sections kept from earlier runs, and the run that measured them. */
  earlier?: { date: string; command: string; runtimeS: number; sections: string[] }[];
}

export interface Experiment {
  name: string;
  description: string;
  scenarios: ScenarioResult[];
}

export interface Results {
  meta: Meta;
  /** Wall times of building the e2e fixture tree, ms. */
  fixtures?: { at: string; buildMs: number[] };
  serving?: {
    at: string;
    scenarios: ScenarioResult[];
    start: Partial<Record<ServerName, number>>;
    oursFiles: Record<string, number>;
  };
  pulls?: {
    at: string;
    images: string[];
    excluded: { ref: string; why: string }[];
    skopeo: TimedCommand[];
    ctr: { ref: string; results: TimedCommand[] }[];
  };
  features?: { at: string; scenarios: ScenarioResult[] };
  toggles?: { at: string; items: ToggleResult[] };
  scaling?: { at: string; sizes: (ScaleResult | ScaleFailure)[]; lists?: ListsResult };
  experiments?: { at: string; variants: Experiment[] };
  notes?: string[];
}

// ------------------------------------------------------------------ formatting

const n0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–");
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "–");
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "–");
const mibs = (x: number) => `${n0(x / 1048576)} MiB/s`;
const us = (x: number) => (x >= 10000 ? `${f1(x / 1000)} ms` : `${n0(x)} µs`);
const spread = (s: Stat, f: (x: number) => string) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
const ratio = (a: number, b: number) => (b ? a / b : NaN);
const check = (ok: boolean | undefined, note?: string) =>
  (ok === undefined ? "?" : ok ? "✅ met" : "❌ missed") + (note ? ` ${note}` : "");
const table = (head: string[], rows: string[][]) =>
  [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");

function metricOf(sr: ScenarioResult, server: ServerName): number {
  const r = sr.results[server];
  if (!r) return NaN;
  return sr.scenario.metric === "rps" ? r.rps.median : r.bytesPerSec.median;
}

// ------------------------------------------------------------------ sections

interface TargetRow {
  target: string;
  measured: string;
  ratio: string;
  /** Same comparison by server CPU per request (capacity): other's CPU/req ÷ ours. */
  cpuRatio?: string;
  ok?: boolean;
  note?: string;
}

/**
 * A requests/s target is met only if the CPU-per-request comparison agrees:
 * when the load generator saturates its core, both servers show the client's
 * rate and the req/s ratio says nothing about the servers.
 */
function verdict(metric: "rps" | "bytesPerSec", r: number, cpu: number, need: number, clientCore?: number) {
  if (!Number.isFinite(r)) return { ok: undefined };
  const bound =
    clientCore !== undefined && clientCore > 0.9
      ? ` (load generator at ${n0(clientCore * 100)} % of its core)`
      : "";
  if (metric === "bytesPerSec") return { ok: r >= need, note: bound ? `— client-bound${bound}` : undefined };
  if (r >= need && Number.isFinite(cpu) && cpu < need) {
    return {
      ok: false,
      note: `by CPU/req; req/s reached ${f2(r)} × only because the client was the bottleneck${bound}`,
    };
  }
  return { ok: r >= need };
}

export function targets(res: Results): TargetRow[] {
  const rows: TargetRow[] = [];
  if (res.fixtures?.buildMs.length) {
    const s = stat(res.fixtures.buildMs);
    rows.push({
      target: "the e2e fixture tree (test/fixtures/build.ts) builds in < 30 s",
      measured: `${spread(s, (x) => `${n0(x)} ms`)} over ${res.fixtures.buildMs.length} builds`,
      ratio: `${f2(s.median / 30_000)} of budget`,
      ok: s.median < 30_000,
    });
  }
  const sc = (id: string) => res.serving?.scenarios.find((s) => s.scenario.id === id);
  const vs = (id: string, label: string, other: ServerName, need: number) => {
    const s = sc(id);
    if (!s) return;
    const a = metricOf(s, "ours");
    const b = metricOf(s, other);
    const r = ratio(a, b);
    const fmt = s.scenario.metric === "rps" ? (x: number) => `${n0(x)} req/s` : mibs;
    const cpuO = s.results.ours?.serverCpuUsPerReq.median ?? NaN;
    const cpuX = s.results[other]?.serverCpuUsPerReq.median ?? NaN;
    rows.push({
      target: `${label}: ≥ ${need} × ${other === "bare" ? "bare nginx" : "reference"}`,
      measured: `ours ${fmt(a)} vs ${fmt(b)}; CPU ${f1(cpuO)} vs ${f1(cpuX)} µs/req`,
      ratio: `${f2(r)} ×`,
      cpuRatio: `${f2(cpuX / cpuO)} ×`,
      ...verdict(s.scenario.metric, r, cpuX / cpuO, need, s.results.ours?.clientCore?.median),
    });
  };
  vs("small-blob", "small blob GET", "bare", 0.9);
  vs("small-blob", "small blob GET", "reference", 20);
  vs("manifest-head-tag", "manifest HEAD by tag", "bare", 0.9);
  vs("manifest-head-tag", "manifest HEAD by tag", "reference", 20);
  vs("manifest-get-digest", "manifest GET by digest (not a target; for reference)", "bare", 0.9);
  vs("manifest-get-digest", "manifest GET by digest (not a target; for reference)", "reference", 20);
  vs("blob-8mib", "8 MiB blob throughput", "bare", 0.95);
  vs("blob-8mib", "8 MiB blob throughput", "reference", 1.5);
  vs("blob-64mib", "64 MiB blob throughput", "bare", 0.95);
  vs("blob-64mib", "64 MiB blob throughput", "reference", 1.5);
  const pull = (label: string, list: TimedCommand[] | undefined) => {
    const o = list?.find((c) => c.name === "ours");
    const r = list?.find((c) => c.name === "reference");
    if (!o || !r) return;
    rows.push({
      target: `${label}: faster than the reference`,
      measured: `ours ${f2(o.median)} s vs ${f2(r.median)} s`,
      ratio: `${f2(r.median / o.median)} × faster`,
      ok: o.median < r.median,
    });
  };
  pull("full pull, skopeo copy --all of every fixture image", res.pulls?.skopeo);
  for (const c of (res.pulls?.ctr ?? []).filter((x) => Array.isArray(x?.results)))
    pull(`ctr content fetch --all-platforms ${c.ref}`, c.results);
  const all = res.scaling?.sizes ?? [];
  for (const f of all.filter(isFailure)) {
    rows.push({
      target: `${n0(f.tags)} tags: every scaling target`,
      measured: `could not be measured: ${f.error.split("\n")[0]}`,
      ratio: "–",
      ok: false,
    });
  }
  const sizes = all.filter((s): s is ScaleResult => !isFailure(s));
  const big = sizes.find((s) => s.tags === 10000) ?? sizes[sizes.length - 1];
  const small = sizes.find((s) => s.tags === 100) ?? sizes[0];
  if (big) {
    rows.push({
      target: `${n0(big.tags)} tags: config ≤ 430 bytes per tag (all files of generate --standalone)`,
      measured: `${n0(big.bytesPerTag)} B/tag (${n0(big.totalBytes)} bytes); ConfigMaps at 900 KiB: ${big.configMaps.find((c) => c.limitBytes === 900 * 1024)?.count ?? "–"}`,
      ratio: `${f2(big.bytesPerTag / 430)} of budget`,
      ok: big.bytesPerTag <= 430,
    });
    rows.push({
      target: `${n0(big.tags)} tags: scan + render < 2 s`,
      measured: `${n0(big.scanRenderMs.median)} ms (child wall incl. node start ${n0(big.childWallMs.median)} ms)`,
      ratio: `${f2(big.scanRenderMs.median / 2000)} of budget`,
      ok: big.scanRenderMs.median < 2000,
    });
    rows.push({
      target: `${n0(big.tags)} tags: scan + render < 300 MiB`,
      measured: `peak RSS ${n0(big.maxRssMiB.median)} MiB`,
      ratio: `${f2(big.maxRssMiB.median / 300)} of budget`,
      ok: big.maxRssMiB.median < 300,
    });
    rows.push({
      target: `${n0(big.tags)} tags: nginx start < 1 s`,
      measured: `${n0(big.startTo200Ms.median)} ms to first 200 on /v2/ (nginx -t ${n0(big.nginxTestMs.median)} ms)`,
      ratio: `${f2(big.startTo200Ms.median / 1000)} of budget`,
      ok: big.startTo200Ms.median < 1000,
    });
    if (small && big.latency && small.latency && small !== big) {
      for (const k of Object.keys(big.latency)) {
        const b = big.latency[k];
        const s = small.latency[k];
        if (!s) continue;
        const r = b.p50us.median / s.p50us.median;
        rows.push({
          target: `${k}: p50 at ${n0(big.tags)} tags within 10 % of ${n0(small.tags)} tags`,
          measured: `${us(b.p50us.median)} vs ${us(s.p50us.median)}; ${n0(b.rps.median)} vs ${n0(s.rps.median)} req/s; CPU ${f1(b.serverCpuUsPerReq.median)} vs ${f1(s.serverCpuUsPerReq.median)} µs/req`,
          ratio: `${f2(r)} ×`,
          ok: r <= 1.1,
        });
      }
    }
  }
  for (const t of (res.toggles?.items ?? []).filter((x) => x.id !== "control")) {
    const all = toggleRows(t);
    if (all.length === 0) continue;
    const cost = (r: (typeof all)[number]) => Math.max(r.p50, r.cpu);
    const worst = all.reduce((w, r) => (cost(r) > cost(w) ? r : w));
    rows.push({
      target: `${t.title}: manifests and blobs with it on within ${n0((TOGGLE_TOLERANCE - 1) * 100)} % of off (p50 and server CPU/req)`,
      measured: `slowest: ${worst.title}, p50 ${f2(worst.p50)} ×, CPU ${f2(worst.cpu)} × (on ÷ off)`,
      ratio: `${f2(worst.p50)} ×`,
      cpuRatio: `${f2(1 / worst.cpu)} ×`,
      ok: all.every((r) => r.p50 <= TOGGLE_TOLERANCE && r.cpu <= TOGGLE_TOLERANCE),
    });
  }
  const lists = res.scaling?.lists;
  if (lists) {
    rows.push({
      target: `tags/list and its Links exact at ${n0(lists.tags)} tags in one repository`,
      measured: `${lists.checked} answers of the n × last table checked against the rule, ${lists.wrong.length} wrong`,
      ratio: "–",
      ok: lists.wrong.length === 0 && lists.checked > 0,
    });
  }
  return rows;
}

function listsTable(l: ListsResult): string {
  const rows = Object.entries(l.latency).map(([k, r]) => loadRow(k, r, "rps"));
  return (
    `### The list endpoints at ${n0(l.tags)} tags in one repository

` +
    `\`bench/lists.ts\`: one repository of ${n0(l.tags)} tags (synthetic inventory, standalone config of ${n0(l.configBytes)} bytes, ` +
    `worker RSS ${f1(l.workerRssKiB / 1024)} MiB). ${l.checked} answers (n ∈ {none, 0, 1, 2, 100, 1000, count−1, count, count+1} × ` +
    `last ∈ {none, "", first, middle, not an entry, second to last, last, after the last}) compared with \`src/nginx/lists.ts\`: ` +
    `${l.wrong.length ? `**${l.wrong.length} wrong**: ${l.wrong.slice(0, 5).join("; ")}` : "all exact, Link headers included"}.\n\n` +
    table(
      ["request", "req/s median (min–max)", "p50", "p99", "server CPU µs/req", "client core", "load"],
      rows,
    )
  );
}

function loadRow(name: string, r: LoadResult | undefined, metric: "rps" | "bytesPerSec"): string[] {
  if (!r) return [name, "–", "–", "–", "–", "–", "–"];
  return [
    name,
    metric === "rps" ? spread(r.rps, n0) : spread(r.bytesPerSec, (x) => n0(x / 1048576)),
    spread(r.p50us, us),
    spread(r.p99us, us),
    f1(r.serverCpuUsPerReq.median),
    r.clientCore ? `${n0(r.clientCore.median * 100)} %` : "–",
    `${r.runs[0]?.tool ?? "?"} -c${r.connections}, ${r.runs.length}×${r.durationS}s${r.non2xx || r.errors ? `, ${r.non2xx} non-2xx, ${r.errors} errors` : ""}` +
      (r.otherCores && r.otherCores.max > NOISY_CORES
        ? `, ⚠ other processes used up to ${f2(r.otherCores.max)} cores`
        : "") +
      (r.runs.some((x) => x.attempts > 1)
        ? `, ${r.runs.reduce((n, x) => n + x.attempts - 1, 0)} noisy run(s) repeated`
        : ""),
  ];
}

function servingTables(scenarios: ScenarioResult[], servers: ServerName[]): string {
  const parts: string[] = [];
  for (const s of scenarios) {
    const unit = s.scenario.metric === "rps" ? "req/s" : "MiB/s";
    const base = metricOf(s, "ours");
    const rows = servers
      .filter((n) => s.results[n])
      .map((n) => [
        ...loadRow(n, s.results[n], s.scenario.metric),
        n === "ours" ? "1.00" : f2(ratio(base, metricOf(s, n))),
      ]);
    parts.push(
      `#### ${s.scenario.title}\n\n\`${s.scenario.targets.ours?.method ?? ""} ${s.scenario.targets.ours?.path ?? ""}\`\n\n` +
        table(
          [
            `server`,
            `${unit} median (min–max)`,
            "p50",
            "p99",
            "server CPU µs/req",
            "client core",
            "load",
            "ours ÷ this",
          ],
          rows,
        ),
    );
  }
  return parts.join("\n\n");
}

/** Per scenario of a toggle: the feature's cost, on ÷ off round by round (median), in p50 latency and server CPU per request. */
function toggleRows(t: ToggleResult): { title: string; p50: number; cpu: number }[] {
  return t.scenarios.map((s) => ({
    title: s.scenario.title,
    p50: pairedRatio(s, (r) => r.p50us),
    cpu: pairedRatio(s, (r) => r.serverCpuUsPerReq),
  }));
}

function toggleTable(t: ToggleResult): string {
  const rows = t.scenarios.map((s, i) => {
    const on = s.results.ours;
    const off = s.results.off;
    const r = toggleRows(t)[i];
    const rate = (x: LoadResult | undefined) =>
      !x ? "–" : s.scenario.metric === "rps" ? n0(x.rps.median) : mibs(x.bytesPerSec.median);
    return [
      `${s.scenario.title}<br>\`${s.scenario.targets.ours?.method ?? ""} ${(s.scenario.targets.ours?.path ?? "").replace(/sha256:([a-f0-9]{8})[a-f0-9]{56}/g, "sha256:$1…")}\``,
      `${on ? spread(on.p50us, us) : "–"} / ${off ? spread(off.p50us, us) : "–"}`,
      f2(r.p50),
      `${f1(on?.serverCpuUsPerReq.median ?? NaN)} / ${f1(off?.serverCpuUsPerReq.median ?? NaN)}`,
      f2(r.cpu),
      `${rate(on)} / ${rate(off)}`,
      check(r.p50 <= TOGGLE_TOLERANCE && r.cpu <= TOGGLE_TOLERANCE),
    ];
  });
  return table(
    [
      "request",
      "p50 on / off",
      "on ÷ off (rounds' median)",
      "server CPU µs/req on / off",
      "on ÷ off (rounds' median)",
      "rate on / off",
      "",
    ],
    rows,
  );
}

function pullTable(list: TimedCommand[]): string {
  const o = list.find((c) => c.name === "ours");
  return table(
    ["server", "median s", "mean ± σ s", "min–max s", "runs", "this ÷ ours"],
    list.map((c) => [
      c.name,
      f2(c.median),
      `${f2(c.mean)} ± ${f2(c.stddev)}`,
      `${f2(c.min)}–${f2(c.max)}`,
      String(c.times.length),
      o ? f2(c.median / o.median) : "–",
    ]),
  );
}

function scalingTable(all: (ScaleResult | ScaleFailure)[]): string {
  const sizes = all.filter((s): s is ScaleResult => !isFailure(s));
  const failed = all.filter(isFailure);
  const head = ["", ...sizes.map((s) => `${n0(s.tags)} tags`)];
  const row = (label: string, f: (s: ScaleResult) => string) => [label, ...sizes.map(f)];
  const rows = [
    row(
      "repositories / manifests / unique blobs",
      (s) => `${n0(s.tree.repositories)} / ${n0(s.tree.manifests)} / ${n0(s.tree.uniqueBlobs)}`,
    ),
    row("multi-arch tags", (s) => n0(s.tree.multiArch)),
    row("scan ms (median, min–max)", (s) => spread(s.scanMs, n0)),
    row("render ms", (s) => spread(s.renderMs, n0)),
    row("scan + render ms", (s) => spread(s.scanRenderMs, n0)),
    row("child wall ms (node start + scan + render + write)", (s) => spread(s.childWallMs, n0)),
    row("peak RSS MiB (scan + render)", (s) => spread(s.maxRssMiB, n0)),
    row("rendered bytes (total)", (s) => n0(s.totalBytes)),
    row("rendered files", (s) => String(Object.keys(s.files).length)),
    row("bytes per tag", (s) => n0(s.bytesPerTag)),
    row("bytes per unique blob", (s) => n0(s.bytesPerBlob)),
    ...[1024 * 1024, 900 * 1024].map((lim) =>
      row(`ConfigMaps at ${lim === 1048576 ? "1 MiB" : "900 KiB (component default)"}`, (s) => {
        const c = s.configMaps.find((x) => x.limitBytes === lim);
        return c ? (c.error ? `error: ${c.error}` : `${c.count} (${c.files} files incl. drift guard)`) : "–";
      }),
    ),
    row("nginx -t ms", (s) => spread(s.nginxTestMs, n0)),
    row("nginx -t warnings", (s) =>
      s.nginxWarnings
        ? s.nginxWarnings.replace(/^\S+ \S+ \[warn\] \d+#\d+: /gm, "").replace(/\n/g, "<br>")
        : "none",
    ),
    row("start → first 200 on /v2/ ms", (s) => spread(s.startTo200Ms, n0)),
    row(
      "worker RSS / PSS MiB",
      (s) => `${f1(s.memory.workerRssKiB / 1024)} / ${f1((s.memory.workerPssKiB ?? NaN) / 1024)}`,
    ),
    row(
      "master RSS / PSS MiB",
      (s) => `${f1(s.memory.masterRssKiB / 1024)} / ${f1((s.memory.masterPssKiB ?? NaN) / 1024)}`,
    ),
  ];
  const lat = sizes.filter((s) => s.latency);
  const latRows: string[][] = [];
  for (const s of lat) {
    for (const [k, r] of Object.entries(s.latency!))
      latRows.push(loadRow(`${n0(s.tags)} tags: ${k}`, r, "rps"));
  }
  return (
    table(head, rows) +
    failed
      .map(
        (f) =>
          `\n\n**${n0(f.tags)} tags could not be measured**:\n\n\`\`\`\n${f.error.split("\n").slice(0, 8).join("\n")}\n\`\`\``,
      )
      .join("") +
    (latRows.length
      ? "\n\nRequest latency by tree size (ours, one worker):\n\n" +
        table(
          ["request", "req/s median (min–max)", "p50", "p99", "server CPU µs/req", "client core", "load"],
          latRows,
        )
      : "")
  );
}

function featureTable(scenarios: ScenarioResult[]): string {
  const base = scenarios.find((s) => s.scenario.id.startsWith("baseline"))?.results.ours;
  return table(
    [
      "request",
      "status",
      "req/s median (min–max)",
      "p50",
      "p99",
      "server CPU µs/req",
      "rps ÷ baseline",
      "CPU ÷ baseline",
    ],
    scenarios.map((s) => {
      const r = s.results.ours!;
      return [
        `${s.scenario.title}<br>\`${s.scenario.targets.ours!.path.replace(/sha256:([a-f0-9]{8})[a-f0-9]{56}/g, "sha256:$1…")}\``,
        String(s.scenario.status ?? 200),
        spread(r.rps, n0),
        us(r.p50us.median),
        us(r.p99us.median),
        f1(r.serverCpuUsPerReq.median),
        base ? f2(r.rps.median / base.rps.median) : "–",
        base ? f2(r.serverCpuUsPerReq.median / base.serverCpuUsPerReq.median) : "–",
      ];
    }),
  );
}

export function renderResults(res: Results, images?: FixtureImage[]): string {
  void images;
  const m = res.meta;
  const out: string[] = [];
  out.push("# Benchmark results");
  out.push(
    "Generated by `bench/run.ts` (do not edit by hand; the notes at the end are kept from `bench/notes.md`). " +
      "Raw numbers: `bench/out/latest.json`.",
  );
  out.push(
    [
      `- **Date**: ${m.date}; total runtime ${n0(m.runtimeS)} s` +
        (m.noiseSpentS
          ? ` (of which ${n0(m.noiseSpentS)} s waiting for a quiet machine or repeating disturbed runs)`
          : ""),
      `- **Command**: \`${m.command}\`` +
        (m.earlier?.length
          ? ` — sections kept from earlier runs: ${m.earlier
              .map((e) => `${e.sections.join(", ")} from \`${e.command}\` (${e.date}, ${n0(e.runtimeS)} s)`)
              .join("; ")}`
          : ""),
      ...Object.entries(m.machine).map(
        ([k, v]) => `- **${k}**: ${v.includes("\n") ? "\n\n```\n" + v + "\n```\n" : v}`,
      ),
      `- **Versions**: ${Object.entries(m.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join("; ")}`,
      `- **Load average** at start / end: ${m.loadavg.start} / ${m.loadavg.end}`,
      `- **Options**: \`${JSON.stringify(m.options)}\``,
    ].join("\n"),
  );
  out.push(
    "**Method.** Servers run on core 1 (`taskset -c 1`): nginx with `worker_processes 1`, docker-registry with " +
      "`GOMAXPROCS=1`. Load generators run on core 0: `wrk -t1` for GET (latency from wrk's histogram), " +
      "`hey` for HEAD (wrk 4.1 cannot time HEAD: it waits for a body; hey reports latency at 100 µs resolution). " +
      "Each measurement: a warm-up run, then several runs, servers taking turns within each round; each run starts when the machine is quiet (other sessions share it), and a run during which other processes used more than 0.1 core is repeated (up to 3 attempts in all, the quietest kept; waiting at most 3 s for quiet); " +
      "tables give the median and (min–max). *Server CPU µs/req* is the CPU time the server processes spent " +
      "(from /proc) divided by requests served: it does not depend on whether client or server was the bottleneck. " +
      "Bare nginx serves the same files from a plain `root` with the same generic tuning as the rendered config (sendfile, tcp_nopush, tcp_nodelay, keepalive_requests 10000, open_file_cache) and no access log. " +
      "The reference is Debian's docker-registry 2.8 with filesystem storage, the same images pushed with " +
      "`skopeo copy --all --preserve-digests`, access log off.",
  );

  if (m.failure)
    out.push(
      "**This run failed part-way; the sections it finished are below.**\n\n```\n" + m.failure + "\n```",
    );
  out.push("## Targets (issue 4)");
  out.push(
    table(
      ["target", "measured (median)", "ratio", "ratio by server CPU/req", ""],
      targets(res).map((t) => [t.target, t.measured, t.ratio, t.cpuRatio ?? "", check(t.ok, t.note)]),
    ),
  );
  out.push(
    "*ratio* is the target's own measure (requests/s or bytes/s, medians). *ratio by server CPU/req* compares " +
      "the CPU time each server spent per request (other ÷ ours): the capacity ratio when the server is the " +
      "bottleneck, and robust to other load on this shared machine.",
  );

  if (res.serving) {
    out.push(
      `## Serving: ours vs bare nginx vs reference\n\nMeasured ${res.serving.at}. Start to first 200 on the readiness URL: ${Object.entries(
        res.serving.start,
      )
        .map(([k, v]) => `${k} ${n0(v ?? NaN)} ms`)
        .join(", ")}. ` +
        `Our rendered config for the fixture tree: ${Object.entries(res.serving.oursFiles)
          .map(([k, v]) => `${k} ${n0(v)} B`)
          .join(", ")}.`,
    );
    out.push(servingTables(res.serving.scenarios, ["ours", "bare", "reference"]));
  }
  if (res.toggles) {
    out.push(
      `## A feature on vs off (same run)\n\nMeasured ${res.toggles.at}. Ours as rendered (every feature at its default) against the same config rendered with one feature off, on the manifest and blob requests above, the two servers taking turns within each round (in alternating order), compared round by round: on ÷ off is the median of the rounds' ratios, which drift between rounds does not move. Target: on ÷ off ≤ ${f2(TOGGLE_TOLERANCE)} in p50 latency and in server CPU per request (hey, for HEAD, reports latency in steps of 100 µs). The control switches nothing off — the same config in a second server — so its ratios are what two identical servers differ by in the same rounds: the noise the other rows are read against.`,
    );
    for (const t of res.toggles.items) out.push(`### ${t.title}\n\n` + toggleTable(t));
  }
  if (res.pulls) {
    out.push(
      `## Whole pulls\n\nMeasured ${res.pulls.at}; client pinned to core 0, hyperfine with a warm-up run.`,
    );
    out.push(
      `### skopeo copy --all of every fixture image (${res.pulls.images.length} images, one after the other, into a fresh dir: tree)\n\n` +
        `Images: ${res.pulls.images.map((i) => `\`${i}\``).join(", ")}` +
        (res.pulls.excluded.length
          ? `\n\nExcluded (a server would not serve them to skopeo): ${res.pulls.excluded.map((e) => `\`${e.ref}\` (${e.why})`).join("; ")}`
          : "") +
        "\n\n" +
        pullTable(res.pulls.skopeo),
    );
    for (const c of res.pulls.ctr.filter((x) => Array.isArray(x?.results))) {
      out.push(
        `### ctr content fetch --all-platforms ${c.ref}\n\nPrivate containerd (own root and socket, CRI off); before each run its content is removed and garbage-collected.\n\n` +
          pullTable(c.results),
      );
    }
  }
  if (res.scaling) {
    out.push(
      `## Scaling of generation (synthetic trees)\n\nMeasured ${res.scaling.at}. Synthetic trees from \`bench/synthetic.ts\`: 10 tags per repository, every 5th tag a multi-arch index with two children, shared base layers hardlinked. Scan + render run in a child process (\`bench/gen-child.ts\`); peak RSS is that process's maxRSS right after render.`,
    );
    out.push(scalingTable(res.scaling.sizes));
    if (res.scaling.lists) out.push(listsTable(res.scaling.lists));
  }
  if (res.features) {
    out.push(
      `## Cost of the features (ours)\n\nMeasured ${res.features.at}, on the fixture tree, each against a manifest GET by digest.`,
    );
    out.push(featureTable(res.features.scenarios));
  }
  if (res.experiments) {
    out.push(
      `## Experiments: hand-edited copies of the rendered config\n\nMeasured ${res.experiments.at}. Each variant is the rendered config with one edit (the product is unchanged), checked first to answer a set of requests (manifests by tag and digest, HEAD, 304, 404s, a blob, a tag list) exactly as the rendered config does; ratios are against bare nginx measured in the same rounds.`,
    );
    for (const v of res.experiments.variants) {
      out.push(
        `### ${v.name}\n\n${v.description}\n\n` + servingTables(v.scenarios, ["ours", "bare", "reference"]),
      );
    }
  }
  if (res.notes?.length) out.push(res.notes.join("\n\n"));
  return out.join("\n\n") + "\n";
}
