/**
 * `npm run bench` → `node dist/bench/run.js [SECTION...] [--runs N] [--duration S] ...`
 *
 * Sections (default: fixtures serving toggles pulls features scaling): fixtures,
 * serving, toggles, pulls, features, scaling, experiments. Writes raw JSON to bench/out/ and
 * bench/RESULTS.md (sections not run this time are kept from the last run).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { scan } from "../src/inventory";
import { answerProbes, experimentVariants, firstDifference } from "./experiments";
import { buildServingFixtures, timeFixtureBuilds } from "./fixtures";
import { noise } from "./lib/load";
import { featureScenarios } from "./features";
import { ctrFetch, pullable, skopeoFullPull, startContainerd, type TimedCommand } from "./pull";
import { renderResults, type Results } from "./report";
import { runScaling } from "./scaling";
import { runLists } from "./lists";
import { startBare, startOurs, startReference, type ImageRef, type Running } from "./servers";
import { runServing, servingScenarios } from "./serving";
import { runToggles } from "./toggles";

const REPO = path.resolve(__dirname, "..", "..");
const OUT = path.join(REPO, "bench", "out");
const SECTIONS = ["fixtures", "serving", "toggles", "pulls", "features", "scaling", "experiments"] as const;
type Section = (typeof SECTIONS)[number];

interface Options {
  sections: Section[];
  runs: number;
  durationS: number;
  warmupS: number;
  pullRuns: number;
  sizes: number[];
  noiseBudgetS: number;
  keep: boolean;
  reportOnly: boolean;
}

const USAGE = `usage: node dist/bench/run.js [${SECTIONS.join("|")}...] [options]
  --runs N        runs per load measurement, and builds of the fixture tree (default 3)
  --duration S    seconds per run, whole seconds (default 3)
  --warmup S      warm-up seconds before each measurement (default 1)
  --pull-runs N   hyperfine runs per whole pull (default 5)
  --sizes LIST    synthetic tree sizes in tags (default 100,1000,10000)
  --noise-budget S  seconds the run may spend waiting for a quiet machine and
                  repeating runs disturbed by other processes (default 120)
  --keep          keep the scratch dir (servers' logs, configs, trees)
  --report-only   measure nothing: rewrite RESULTS.md from bench/out/latest.json and bench/notes.md
Default sections: fixtures serving toggles pulls features scaling.`;

function parseArgs(argv: string[]): Options {
  const o: Options = {
    sections: [],
    runs: 3,
    durationS: 3,
    warmupS: 1,
    pullRuns: 5,
    sizes: [100, 1000, 10000],
    noiseBudgetS: 120,
    keep: false,
    reportOnly: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a whole number ≥ 1\n${USAGE}`);
      return v;
    };
    if (a === "--runs") o.runs = num();
    else if (a === "--duration") o.durationS = num();
    else if (a === "--warmup") o.warmupS = num();
    else if (a === "--pull-runs") o.pullRuns = num();
    else if (a === "--sizes")
      o.sizes = (argv[++i] ?? "")
        .split(",")
        .map(Number)
        .filter((n) => n > 0);
    else if (a === "--noise-budget") o.noiseBudgetS = num();
    else if (a === "--keep") o.keep = true;
    else if (a === "--report-only") o.reportOnly = true;
    else if (a === "-h" || a === "--help") {
      process.stdout.write(USAGE + "\n");
      process.exit(0);
    } else if ((SECTIONS as readonly string[]).includes(a)) o.sections.push(a as Section);
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if (o.sections.length === 0)
    o.sections = ["fixtures", "serving", "toggles", "pulls", "features", "scaling"];
  return o;
}

const text = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
};
const debVersion = (pkg: string) => text("dpkg-query", ["-W", "-f", "${Version}", pkg]) || "?";

function machine(): Record<string, string> {
  return {
    nproc: text("nproc", []),
    CPU: /Model name:\s*(.*)/.exec(text("lscpu", []))?.[1] ?? "?",
    kernel: text("uname", ["-sr"]),
    "free -h": text("free", ["-h"]),
  };
}

function versions(): Record<string, string> {
  return {
    nginx:
      text("/usr/sbin/nginx", ["-v"]).replace("nginx version: ", "") +
      ` (nginx-light ${debVersion("nginx-light")})`,
    "docker-registry": debVersion("docker-registry"),
    wrk: debVersion("wrk"),
    hey: debVersion("hey"),
    hyperfine: debVersion("hyperfine"),
    skopeo: debVersion("skopeo"),
    containerd: debVersion("containerd"),
    node: process.version,
  };
}

const loadavg = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");
const log = (m: string) => process.stderr.write(m + "\n");

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.reportOnly) {
    writeReport(JSON.parse(fs.readFileSync(path.join(OUT, "latest.json"), "utf8")) as Results);
    log("bench: rewrote bench/RESULTS.md from bench/out/latest.json");
    return;
  }
  noise.budgetS = opts.noiseBudgetS;
  const t0 = performance.now();
  const started = new Date().toISOString();
  const startLoad = loadavg();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "scr-bench-"));
  fs.chmodSync(work, 0o755); // nginx workers run as nobody
  fs.mkdirSync(OUT, { recursive: true });
  log(`bench: ${opts.sections.join(" ")} (scratch ${work})`);

  const res: Results = {
    meta: {
      date: started,
      command: commandLine(),
      machine: machine(),
      versions: versions(),
      options: { ...opts },
      loadavg: { start: startLoad, end: "" },
      runtimeS: 0,
    },
  };
  const servers: Running[] = [];
  const stopAll = async () => {
    while (servers.length) await servers.pop()!.stop();
  };
  const onSignal = () => void stopAll().then(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const at = () => new Date().toISOString();
  const loadOpts = { durationS: opts.durationS, runs: opts.runs, warmupS: opts.warmupS, workDir: work };

  let failure: unknown;
  try {
    const want = (s: Section) => opts.sections.includes(s);
    if (want("fixtures")) {
      log(`fixtures: building the e2e fixture tree ${opts.runs} times`);
      res.fixtures = { at: at(), buildMs: await timeFixtureBuilds(work, opts.runs) };
      log(`  ${res.fixtures.buildMs.map((ms) => `${Math.round(ms)} ms`).join(", ")}`);
    }
    if (want("serving") || want("toggles") || want("pulls") || want("features") || want("experiments")) {
      log("fixtures: building the e2e fixture tree + a 64 MiB blob image");
      const root = path.join(work, "images");
      const fx = await buildServingFixtures(root);
      const inv = await scan(root);
      if (inv.problems.length) throw new Error(`fixture tree has problems: ${JSON.stringify(inv.problems)}`);

      const ours = await startOurs(root, work, "ours", { inventory: inv });
      servers.push(ours);
      log(`ours: 127.0.0.1:${ours.port}, ready in ${Math.round(ours.startMs)} ms`);
      let bare: Running | undefined;
      if (want("serving") || want("experiments")) {
        bare = await startBare(root, work);
        servers.push(bare);
      }
      let reference: Running | undefined;
      if (want("serving") || want("pulls")) {
        log("reference: starting docker-registry and pushing the fixture images with skopeo");
        const images: ImageRef[] = fx.images.map((i) => ({
          source: i.source === "dir" ? `dir:${i.path}` : `oci:${i.path}:${i.tag}`,
          repo: i.repo,
          tag: i.tag,
        }));
        images.push({
          source: `dir:${path.join(root, fx.huge.repo, fx.huge.tag)}`,
          repo: fx.huge.repo,
          tag: fx.huge.tag,
        });
        reference = await startReference(work, images);
        servers.push(reference);
      }

      if (want("serving")) {
        log("serving:");
        const scenarios = await runServing(
          servingScenarios(fx, inv),
          [ours, bare!, reference!],
          loadOpts,
          log,
        );
        res.serving = {
          at: at(),
          scenarios,
          start: { ours: ours.startMs, bare: bare!.startMs, reference: reference!.startMs },
          oursFiles: Object.fromEntries(
            Object.entries(ours.rendered.files).map(([k, v]) => [k, Buffer.byteLength(v)]),
          ),
        };
      }
      if (want("toggles")) {
        log("toggles: a feature on vs off, same run");
        res.toggles = { at: at(), items: await runToggles(root, work, inv, fx, ours, loadOpts, log) };
      }
      if (want("features")) {
        log("features:");
        res.features = {
          at: at(),
          scenarios: await runServing(featureScenarios(fx.images), [ours], loadOpts, log),
        };
      }
      if (want("pulls")) {
        log("pulls: skopeo copy --all of every fixture image");
        const both = [ours, reference!];
        const { ok, excluded } = pullable(fx.images, both);
        const skopeo = await skopeoFullPull(work, ok, both, opts.pullRuns);
        log(`  ${skopeo.map((c) => `${c.name} ${c.median.toFixed(2)} s`).join(", ")}`);
        const cd = await startContainerd(work);
        try {
          // The multi-arch image the issue asks for (ten small requests: the
          // clients' own overhead dominates), and the 64 MiB image (bytes dominate).
          const ctr: { ref: string; results: TimedCommand[] }[] = [];
          for (const ref of ["multi/oci-index:1.0", `${fx.huge.repo}:${fx.huge.tag}`]) {
            log(`pulls: ctr content fetch --all-platforms ${ref}`);
            const results = await ctrFetch(work, cd, ref, both, opts.pullRuns * 2);
            log(`  ${results.map((c) => `${c.name} ${c.median.toFixed(3)} s`).join(", ")}`);
            ctr.push({ ref, results });
          }
          res.pulls = { at: at(), images: ok.map((i) => `${i.repo}:${i.tag}`), excluded, skopeo, ctr };
        } finally {
          await cd.proc.stop();
        }
      }
      if (want("experiments")) {
        log("experiments: hand-edited copies of the rendered config");
        const variants = [];
        const scenarios = servingScenarios(fx, inv).filter((s) =>
          ["small-blob", "manifest-get-tag", "blob-64mib"].includes(s.id),
        );
        for (const v of experimentVariants()) {
          let server;
          try {
            server = await startOurs(root, work, `variant-${v.name.replace(/[^a-z0-9]+/gi, "-")}`, {
              inventory: inv,
              edit: v.edit,
            });
          } catch (e) {
            log(`  ${v.name}: skipped: ${(e as Error).message.split("\n")[0]}`);
            variants.push({
              name: v.name,
              description: `${v.description}\n\n**Skipped**: ${(e as Error).message.split("\n")[0]}`,
              scenarios: [],
            });
            continue;
          }
          servers.push(server);
          const diff = await firstDifference(ours.port, server.port, answerProbes(fx.images));
          if (diff) {
            log(`  ${v.name}: skipped, answers differently: ${diff}`);
            variants.push({
              name: v.name,
              description: `${v.description}\n\n**Skipped**: answers differently from the rendered config: ${diff}`,
              scenarios: [],
            });
            await server.stop();
            servers.splice(servers.indexOf(server), 1);
            continue;
          }
          log(`  ${v.name}`);
          try {
            variants.push({
              name: v.name,
              description: v.description,
              scenarios: await runServing(scenarios, [server, bare!], loadOpts, log),
            });
          } finally {
            await server.stop();
            servers.splice(servers.indexOf(server), 1);
          }
        }
        res.experiments = { at: at(), variants };
      }
      await stopAll();
    }

    if (opts.sections.includes("scaling")) {
      log("scaling:");
      const sizes = await runScaling(work, {
        sizes: opts.sizes,
        latencySizes: [Math.min(...opts.sizes), Math.max(...opts.sizes)],
        repeats: 3,
        load: loadOpts,
        log,
      });
      const lists = await runLists(work, { tags: Math.max(...opts.sizes), load: loadOpts, log });
      res.scaling = { at: at(), sizes, lists };
    }
  } catch (e) {
    failure = e;
    res.meta.failure = (e as Error).stack ?? String(e);
  } finally {
    await stopAll();
    if (opts.keep || failure) log(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }

  res.meta.loadavg.end = loadavg();
  res.meta.runtimeS = (performance.now() - t0) / 1000;
  res.meta.noiseSpentS = noise.spentS;
  const stamp = started.replace(/[:.]/g, "-");
  fs.writeFileSync(path.join(OUT, `results-${stamp}.json`), JSON.stringify(res, null, 1));
  const merged = mergeWithLatest(res);
  fs.writeFileSync(path.join(OUT, "latest.json"), JSON.stringify(merged, null, 1));
  writeReport(merged);
  log(
    `bench: done in ${Math.round(res.meta.runtimeS)} s; wrote bench/RESULTS.md and bench/out/results-${stamp}.json`,
  );
  if (failure) throw failure;
}

/** RESULTS.md from the results and the hand-written analysis in bench/notes.md. */
function writeReport(res: Results) {
  const notesFile = path.join(REPO, "bench", "notes.md");
  const withNotes = {
    ...res,
    notes: fs.existsSync(notesFile) ? [fs.readFileSync(notesFile, "utf8").trim()] : [],
  };
  fs.writeFileSync(path.join(REPO, "bench", "RESULTS.md"), renderResults(withNotes));
}

/** Sections not run this time come from the previous latest.json. */
function mergeWithLatest(res: Results): Results {
  const file = path.join(OUT, "latest.json");
  if (!fs.existsSync(file)) return res;
  const prev = JSON.parse(fs.readFileSync(file, "utf8")) as Results;
  const merged: Results = { ...res, meta: { ...res.meta, earlier: [] } };
  const kept: Record<string, string[]> = {};
  for (const k of SECTIONS) {
    if (merged[k] || !prev[k]) continue;
    (merged as unknown as Record<string, unknown>)[k] = prev[k];
    // Which run measured it: the previous run, or one that run had kept in turn.
    const from =
      prev.meta.earlier?.find((e) => e.sections.includes(k)) ??
      ({
        date: prev.meta.date,
        command: prev.meta.command,
        runtimeS: prev.meta.runtimeS,
        sections: [],
      } as const);
    (kept[`${from.date}|${from.command}|${from.runtimeS}`] ??= []).push(k);
  }
  merged.meta.earlier = Object.entries(kept).map(([key, sections]) => {
    const [date, command, runtimeS] = key.split("|");
    return { date, command, runtimeS: Number(runtimeS), sections };
  });
  return merged;
}

function commandLine(): string {
  const args = process.argv.slice(2).join(" ");
  if (process.env.npm_lifecycle_event === "bench") return `npm run bench${args ? ` -- ${args}` : ""}`;
  return `node dist/bench/run.js${args ? ` ${args}` : ""}`;
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
