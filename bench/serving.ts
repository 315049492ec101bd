/**
 * Serving: the same requests against ours, bare nginx and the reference
 * registry, interleaved run by run (so drift hits all three alike).
 */
import type { Inventory } from "../src/inventory";
import type { ServingFixtures } from "./fixtures";
import { load, stat, type LoadOptions, type LoadResult, type Target } from "./lib/load";
import type { Running } from "./servers";

export const ACCEPT_MANIFESTS = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

export type ServerName = Running["name"];

export interface Scenario {
  id: string;
  title: string;
  connections: number;
  /** Which metric the targets are about. */
  metric: "rps" | "bytesPerSec";
  size: number;
  /** Status every response must have (checked before the load; default 200). */
  status?: number;
  targets: Partial<Record<ServerName, Omit<Target, "port">>>;
}

export interface ScenarioResult {
  scenario: Scenario;
  results: Partial<Record<ServerName, LoadResult>>;
}

/** The requests, as the registry API path (ours, reference) and as a plain file path (bare). */
export function servingScenarios(fx: ServingFixtures, inv: Inventory): Scenario[] {
  const busybox = fx.images.find((i) => i.reference === "busybox:1.36");
  const big = fx.images.find((i) => i.features.includes("large-layer"));
  if (!busybox?.config || !big) throw new Error("fixture tree lacks busybox:1.36 or the large-layer image");
  const bigLayer = [...big.layers].sort((a, b) => b.size - a.size)[0];
  const file = (digest: string) => {
    const rec = inv.blobs[digest] ?? inv.manifests[digest];
    if (!rec) throw new Error(`${digest} is not in the inventory`);
    return "/" + rec.path;
  };
  const accept = { Accept: ACCEPT_MANIFESTS };
  const both = (t: Omit<Target, "port">) => ({ ours: t, reference: t });
  return [
    {
      id: "small-blob",
      title: `small blob GET (config, ${busybox.config.size} B)`,
      connections: 16,
      metric: "rps",
      size: busybox.config.size,
      targets: {
        ...both({ method: "GET", path: `/v2/busybox/blobs/${busybox.config.digest}` }),
        bare: { method: "GET", path: file(busybox.config.digest) },
      },
    },
    {
      id: "manifest-head-tag",
      title: "manifest HEAD by tag (hey)",
      connections: 16,
      metric: "rps",
      size: busybox.size,
      targets: {
        ...both({ method: "HEAD", path: "/v2/busybox/manifests/1.36", headers: accept }),
        bare: { method: "HEAD", path: file(busybox.digest), headers: accept },
      },
    },
    {
      id: "manifest-get-tag",
      title: "manifest GET by tag (wrk)",
      connections: 16,
      metric: "rps",
      size: busybox.size,
      targets: {
        ...both({ method: "GET", path: "/v2/busybox/manifests/1.36", headers: accept }),
        bare: { method: "GET", path: file(busybox.digest), headers: accept },
      },
    },
    {
      id: "manifest-get-digest",
      title: "manifest GET by digest",
      connections: 16,
      metric: "rps",
      size: busybox.size,
      targets: {
        ...both({ method: "GET", path: `/v2/busybox/manifests/${busybox.digest}`, headers: accept }),
        bare: { method: "GET", path: file(busybox.digest), headers: accept },
      },
    },
    {
      id: "blob-8mib",
      title: `large blob GET (${(bigLayer.size / 1048576).toFixed(1)} MiB)`,
      connections: 4,
      metric: "bytesPerSec",
      size: bigLayer.size,
      targets: {
        ...both({ method: "GET", path: `/v2/big/layer/blobs/${bigLayer.digest}` }),
        bare: { method: "GET", path: file(bigLayer.digest) },
      },
    },
    {
      id: "blob-64mib",
      title: "large blob GET (64 MiB)",
      connections: 4,
      metric: "bytesPerSec",
      size: fx.huge.size,
      targets: {
        ...both({ method: "GET", path: `/v2/${fx.huge.repo}/blobs/${fx.huge.layerDigest}` }),
        bare: { method: "GET", path: file(fx.huge.layerDigest) },
      },
    },
  ];
}

/**
 * Runs every scenario on every server given: warm-up, then `runs` runs, the
 * servers taking turns within each round (with `alternate`, in the reverse
 * order every other round, so that neither always goes first). The i-th run
 * of each server's result is from round i.
 */
export async function runServing(
  scenarios: Scenario[],
  servers: Running[],
  opts: Omit<LoadOptions, "connections" | "serverPids">,
  log: (msg: string) => void,
  alternate = false,
): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  for (const sc of scenarios) {
    const perServer = new Map<ServerName, LoadResult[]>();
    const present = servers.filter((s) => sc.targets[s.name]);
    const one = async (s: Running, durationS: number, warmupS: number) =>
      load(
        { port: s.port, expectStatus: sc.status, ...sc.targets[s.name]! },
        { ...opts, durationS, warmupS, runs: 1, connections: sc.connections, serverPids: s.cpuPids },
      );
    for (const s of present) await one(s, opts.warmupS, 0); // warm-up
    for (let i = 0; i < opts.runs; i++) {
      for (const s of alternate && i % 2 === 1 ? [...present].reverse() : present) {
        const r = await one(s, opts.durationS, 0);
        perServer.set(s.name, [...(perServer.get(s.name) ?? []), r]);
      }
    }
    const results: ScenarioResult["results"] = {};
    for (const [name, rs] of perServer) results[name] = merge(rs);
    out.push({ scenario: sc, results });
    log(
      `  ${sc.id}: ` +
        present
          .map((s) => {
            const r = results[s.name]!;
            return sc.metric === "rps"
              ? `${s.name} ${Math.round(r.rps.median)} req/s`
              : `${s.name} ${(r.bytesPerSec.median / 1048576).toFixed(0)} MiB/s`;
          })
          .join(", "),
    );
  }
  return out;
}

/** Single-run LoadResults of one target → one LoadResult over all runs. */
export function merge(rs: LoadResult[]): LoadResult {
  const runs = rs.flatMap((r) => r.runs);
  const st = (f: (r: (typeof runs)[number]) => number) => stat(runs.map(f));
  return {
    target: rs[0].target,
    connections: rs[0].connections,
    durationS: rs[0].durationS,
    runs,
    rps: st((r) => r.rps),
    bytesPerSec: st((r) => r.bytesPerSec),
    p50us: st((r) => r.p50us),
    p99us: st((r) => r.p99us),
    serverCpuUsPerReq: st((r) => r.serverCpuUsPerReq),
    otherCores: st((r) => r.otherCores),
    clientCore: st((r) => r.clientCore),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
  };
}
