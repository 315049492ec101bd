/**
 * Scaling of generation with the size of the tree (synthetic trees of 100,
 * 1,000, 10,000 tags): scan + render time and peak memory (in a child process),
 * rendered bytes, ConfigMaps, `nginx -t` time, start time to the first 200 on
 * /v2/, worker memory, and request latency (lookups, 404s, list pages) on the
 * largest tree vs the smallest, measured interleaved.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { freePort } from "../test/support/tools";
import type { GenChildResult } from "./gen-child";
import { load, stat, type LoadOptions, type LoadResult, type Stat, type Target } from "./lib/load";
import { memoryKiB, startPinned, waitFor200, type Proc } from "./lib/proc";
import { childPids } from "../test/support/procs";
import { ACCEPT_MANIFESTS, merge } from "./serving";
import { generateTree, type SyntheticTree } from "./synthetic";

const NGINX = "/usr/sbin/nginx";

export interface ScaleResult {
  tags: number;
  tree: Omit<SyntheticTree, "root">;
  /** Wall time of the whole child (node start, scan, render, write), ms. */
  childWallMs: Stat;
  scanMs: Stat;
  renderMs: Stat;
  scanRenderMs: Stat;
  maxRssMiB: Stat;
  files: Record<string, number>;
  totalBytes: number;
  bytesPerTag: number;
  bytesPerBlob: number;
  configMaps: GenChildResult["configMaps"];
  nginxTestMs: Stat;
  /** What `nginx -t -q` printed (warnings), if anything. */
  nginxWarnings: string;
  startTo200Ms: Stat;
  memory: { masterRssKiB: number; workerRssKiB: number; workerPssKiB?: number; masterPssKiB?: number };
  latency?: Record<string, LoadResult>;
}

export interface ScalingOptions {
  sizes: number[];
  /** Sizes whose request latency is measured (smallest and largest by default). */
  latencySizes: number[];
  repeats: number;
  load: Omit<LoadOptions, "connections" | "serverPids">;
  log: (m: string) => void;
}

/** A size that could not be measured (e.g. render refused the tree): what failed. */
export interface ScaleFailure {
  tags: number;
  tree: Omit<SyntheticTree, "root">;
  error: string;
}

export function isFailure(r: ScaleResult | ScaleFailure): r is ScaleFailure {
  return "error" in r;
}

const treeInfo = ({ root: _root, ...rest }: SyntheticTree): Omit<SyntheticTree, "root"> => (void _root, rest);

export async function runScaling(work: string, o: ScalingOptions): Promise<(ScaleResult | ScaleFailure)[]> {
  const out: (ScaleResult | ScaleFailure)[] = [];
  const kept: (LatencyServer & { result: ScaleResult })[] = [];
  for (const tags of o.sizes) {
    const dir = path.join(work, `synthetic-${tags}`);
    const tree = generateTree(dir, tags);
    o.log(
      `  ${tags} tags: tree written in ${Math.round(tree.writeMs)} ms (${tree.uniqueBlobs} unique blobs)`,
    );
    try {
      const m = await measureSize(dir, tree, o);
      out.push(m.result);
      if (m.server) kept.push({ ...m.server, result: m.result });
    } catch (e) {
      const error = (e as Error).message;
      o.log(`  ${tags} tags: FAILED: ${error.split("\n").slice(0, 3).join(" | ")}`);
      out.push({ tags, tree: treeInfo(tree), error });
    }
  }
  try {
    if (kept.length > 0) {
      o.log(`  latency: ${kept.map((k) => k.tree.tags).join(" / ")} tags, interleaved`);
      const latency = await latencyBySize(kept, o);
      kept.forEach((k, i) => (k.result.latency = latency[i]));
    }
  } finally {
    for (const k of kept) await k.proc.stop();
  }
  return out;
}

async function measureSize(
  dir: string,
  tree: SyntheticTree,
  o: ScalingOptions,
): Promise<{ result: ScaleResult; server?: LatencyServer }> {
  const tags = tree.tags;
  const configDir = path.join(dir, "conf");
  const runtimeDir = path.join(dir, "run");
  fs.mkdirSync(runtimeDir, { recursive: true });
  const port = await freePort();

  const children: (GenChildResult & { wallMs: number })[] = [];
  for (let i = 0; i < o.repeats; i++) {
    const t0 = performance.now();
    const r = spawnSync(
      process.execPath,
      [path.join(__dirname, "gen-child.js"), tree.root, configDir, runtimeDir, `127.0.0.1:${port}`],
      { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
    );
    const wallMs = performance.now() - t0;
    if (r.status !== 0) throw new Error(`gen-child failed for ${tags} tags:\n${r.stderr}`);
    children.push({ ...(JSON.parse(r.stdout) as GenChildResult), wallMs });
  }
  const last = children[children.length - 1];
  const main = path.join(configDir, "nginx.conf");
  const args = ["-c", main, "-p", runtimeDir, "-e", "stderr"];

  // stdout/stderr to a file: the config logs requests to /dev/stdout, which
  // nginx cannot open when stdout is a socket (node's default pipes).
  const testLog = path.join(dir, "nginx-t.log");
  const tests: number[] = [];
  for (let i = 0; i < o.repeats; i++) {
    const fd = fs.openSync(testLog, "w");
    const t0 = performance.now();
    const r = spawnSync(NGINX, ["-t", "-q", ...args], { stdio: ["ignore", fd, fd] });
    tests.push(performance.now() - t0);
    fs.closeSync(fd);
    if (r.status !== 0)
      throw new Error(`nginx -t failed for ${tags} tags:\n${fs.readFileSync(testLog, "utf8")}`);
  }
  const warnings = fs.readFileSync(testLog, "utf8").trim();

  const starts: number[] = [];
  let proc: Proc | undefined;
  for (let i = 0; i < o.repeats; i++) {
    const t0 = performance.now();
    proc = startPinned(NGINX, args, { logFile: path.join(dir, "nginx.log") });
    starts.push(await waitFor200(port, "/v2/", t0, 30000, proc));
    if (i < o.repeats - 1) await proc.stop();
  }
  const master = proc!.pid;
  const workers = childPids(master);
  const wm = memoryKiB(workers[0]);
  const mm = memoryKiB(master);

  const result: ScaleResult = {
    tags,
    tree: treeInfo(tree),
    childWallMs: stat(children.map((c) => c.wallMs)),
    scanMs: stat(children.map((c) => c.scanMs)),
    renderMs: stat(children.map((c) => c.renderMs)),
    scanRenderMs: stat(children.map((c) => c.scanMs + c.renderMs)),
    maxRssMiB: stat(children.map((c) => c.maxRssKiB / 1024)),
    files: last.files,
    totalBytes: last.totalBytes,
    bytesPerTag: last.totalBytes / tags,
    bytesPerBlob: last.totalBytes / tree.uniqueBlobs,
    configMaps: last.configMaps,
    nginxTestMs: stat(tests),
    nginxWarnings: warnings,
    startTo200Ms: stat(starts),
    memory: { masterRssKiB: mm.rss, masterPssKiB: mm.pss, workerRssKiB: wm.rss, workerPssKiB: wm.pss },
  };

  const keep = o.latencySizes.includes(tags);
  if (!keep) await proc!.stop();
  o.log(
    `  ${tags} tags: scan+render ${Math.round(result.scanRenderMs.median)} ms, peak ${Math.round(result.maxRssMiB.median)} MiB, ` +
      `${(result.totalBytes / 1048576).toFixed(2)} MiB config, nginx -t ${Math.round(result.nginxTestMs.median)} ms, ` +
      `start ${Math.round(result.startTo200Ms.median)} ms, worker RSS ${(wm.rss / 1024).toFixed(1)} MiB`,
  );
  return { result, server: keep ? { proc: proc!, port, workers, tree } : undefined };
}

/** A size's nginx, kept running for the latency probes. */
interface LatencyServer {
  proc: Proc;
  port: number;
  workers: number[];
  tree: SyntheticTree;
}

/** The requests whose latency is compared across sizes, for one tree. */
function probes(t: SyntheticTree): Record<string, Omit<Target, "port">> {
  const last = t.last;
  const manifests = { Accept: ACCEPT_MANIFESTS };
  return {
    "manifest GET by tag (last repository)": {
      method: "GET",
      path: `/v2/${last.repo}/manifests/${last.tag}`,
      headers: manifests,
    },
    "blob GET (last repository)": { method: "GET", path: `/v2/${last.repo}/blobs/${last.blobDigest}` },
    // A base layer that every repository holds: one shared entry, found on the lookup's miss path.
    "shared base layer GET (last repository)": {
      method: "GET",
      path: `/v2/${last.repo}/blobs/${last.baseLayerDigest}`,
    },
    "manifest GET by digest (first repository)": {
      method: "GET",
      path: `/v2/${t.first.repo}/manifests/${t.first.manifestDigest}`,
      headers: manifests,
    },
    // Misses take another path than hits (whatever tells "unknown tag" from
    // "unknown repository"), which may grow with the number of repositories.
    "404 unknown tag (last repository)": {
      method: "GET",
      path: `/v2/${last.repo}/manifests/no-such-tag`,
      expectStatus: 404,
    },
    "404 unknown blob (last repository)": {
      method: "GET",
      path: `/v2/${last.repo}/blobs/sha256:${"0".repeat(64)}`,
      expectStatus: 404,
    },
    "404 unknown repository": {
      method: "GET",
      path: "/v2/zz-no-such/repo/manifests/latest",
      expectStatus: 404,
    },
    // The list endpoints (njs): a page from a given `last`, as clients walk them.
    "tags/list?n=5&last=<a tag> (last repository)": {
      method: "GET",
      path: `/v2/${last.repo}/tags/list?n=5&last=${last.tag}`,
    },
    "_catalog?n=5&last=<first repository>": {
      method: "GET",
      path: `/v2/_catalog?n=5&last=${encodeURIComponent(t.first.repo)}`,
    },
  };
}

/**
 * Every probe on every kept size, the sizes taking turns within each round
 * (as the serving section does with servers): a machine that gets slower or
 * faster over the minutes the section takes then shifts all sizes alike,
 * instead of showing up as a difference between them.
 */
async function latencyBySize(
  servers: LatencyServer[],
  o: ScalingOptions,
): Promise<Record<string, LoadResult>[]> {
  const out: Record<string, LoadResult>[] = servers.map(() => ({}));
  for (const name of Object.keys(probes(servers[0].tree))) {
    const one = (s: LatencyServer, durationS: number) =>
      load(
        { port: s.port, ...probes(s.tree)[name] },
        { ...o.load, durationS, warmupS: 0, runs: 1, connections: 16, serverPids: s.workers },
      );
    for (const s of servers) await one(s, o.load.warmupS);
    const runs = servers.map((): LoadResult[] => []);
    for (let i = 0; i < o.load.runs; i++) {
      for (const [k, s] of servers.entries()) runs[k].push(await one(s, o.load.durationS));
    }
    runs.forEach((rs, k) => (out[k][name] = merge(rs)));
  }
  return out;
}
