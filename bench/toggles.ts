/**
 * A feature on vs off, in the same run: the standalone config as rendered
 * (ours: every feature at its default) against the same config rendered with
 * one feature off, on the manifest and blob requests of the serving
 * scenarios, the two servers taking turns within each round (in alternating
 * order) so that drift hits both alike, and compared round by round: the
 * median of the rounds' on ÷ off. What it answers: does the feature cost the
 * hot path anything (target: within 5 %).
 */
import type { Inventory } from "../src/inventory";
import type { StandaloneOptions } from "./render";
import type { ServingFixtures } from "./fixtures";
import { startOurs, type Running } from "./servers";
import { runServing, servingScenarios, type Scenario, type ScenarioResult } from "./serving";
import type { LoadOptions, RunResult } from "./lib/load";

export interface Toggle {
  id: string;
  /** What is switched off, as the report names it. */
  title: string;
  /** The render options that switch it off. */
  off: Partial<StandaloneOptions>;
}

export const TOGGLES: Toggle[] = [
  { id: "ui", title: "the catalog page at / (`--no-ui`)", off: { ui: false } },
  // The pull log: ours writes one JSON line per request (the default); off is `--access-log off`.
  { id: "access-log", title: "the JSON pull log (`--access-log off`)", off: { accessLogFormat: "off" } },
  // The control: nothing switched off, the same config in a second nginx. What
  // two identical servers differ by in the same rounds is the noise floor the
  // other rows are read against.
  { id: "control", title: "nothing (control: the same config in a second server)", off: {} },
];

/** The serving scenarios of the hot path: manifests and blobs. */
const HOT_PATH = ["small-blob", "manifest-head-tag", "manifest-get-tag", "manifest-get-digest", "blob-8mib"];

/** How much slower (latency, server CPU per request) a feature may make the hot path. */
export const TOGGLE_TOLERANCE = 1.05;

/** The median over rounds of on ÷ off of `f` (runs of the same round paired). */
export function pairedRatio(s: ScenarioResult, f: (r: RunResult) => number): number {
  const on = s.results.ours?.runs ?? [];
  const off = s.results.off?.runs ?? [];
  const ratios = on
    .slice(0, off.length)
    .map((r, i) => f(r) / f(off[i]))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (ratios.length === 0) return NaN;
  const m = ratios.length >> 1;
  return ratios.length % 2 ? ratios[m] : (ratios[m - 1] + ratios[m]) / 2;
}

export interface ToggleResult {
  id: string;
  title: string;
  scenarios: ScenarioResult[];
}

/** The hot-path scenarios, the same request for ours (feature on) and "off". */
export function toggleScenarios(fx: ServingFixtures, inv: Inventory): Scenario[] {
  return servingScenarios(fx, inv)
    .filter((s) => HOT_PATH.includes(s.id))
    .map((s) => ({ ...s, targets: { ours: s.targets.ours, off: s.targets.ours } }));
}

/** Each toggle: a server with the feature off beside `ours`, both loaded in turns. */
export async function runToggles(
  root: string,
  work: string,
  inv: Inventory,
  fx: ServingFixtures,
  ours: Running,
  load: Omit<LoadOptions, "connections" | "serverPids">,
  log: (m: string) => void,
): Promise<ToggleResult[]> {
  const out: ToggleResult[] = [];
  for (const t of TOGGLES) {
    log(`  ${t.id} off vs on:`);
    const off = await startOurs(root, work, `off-${t.id}`, { inventory: inv, render: t.off, name: "off" });
    try {
      out.push({
        id: t.id,
        title: t.title,
        scenarios: await runServing(toggleScenarios(fx, inv), [ours, off], load, log, true),
      });
    } finally {
      await off.stop();
    }
  }
  return out;
}
