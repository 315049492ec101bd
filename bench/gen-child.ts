/**
 * Child process of the scaling benchmark: scan + renderStandalone of one tree,
 * timed, with the peak RSS of this process taken right after rendering (so it
 * is the cost of scan + render alone). Then, not counted in that peak, the
 * Kubernetes component's plan of the same inventory, for the ConfigMap count.
 *
 * usage: node gen-child.js ROOT CONFIG_DIR RUNTIME_DIR LISTEN
 * prints one JSON line.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { scan } from "../src/inventory";
import { renderStandalone } from "./render";

export interface GenChildResult {
  scanMs: number;
  renderMs: number;
  /** Peak RSS after scan + render, KiB. */
  maxRssKiB: number;
  heapUsedMiB: number;
  files: Record<string, number>;
  totalBytes: number;
  /** ConfigMaps the component needs, by ConfigMap byte limit. */
  configMaps: { limitBytes: number; count: number; files: number; error?: string }[];
}

async function main() {
  const [root, configDir, runtimeDir, listen] = process.argv.slice(2);
  const t0 = performance.now();
  const inv = await scan(root);
  const t1 = performance.now();
  if (inv.problems.length) throw new Error(`problems: ${JSON.stringify(inv.problems.slice(0, 3))}`);
  const rendered = renderStandalone(inv, { listen, runtimeDir, configDir, workerProcesses: 1 });
  const t2 = performance.now();
  const maxRssKiB = process.resourceUsage().maxRSS;
  const heapUsedMiB = process.memoryUsage().heapUsed / 1048576;
  fs.mkdirSync(configDir, { recursive: true });
  const files: Record<string, number> = {};
  for (const [name, text] of Object.entries(rendered.files)) {
    fs.writeFileSync(path.join(configDir, name), text);
    files[name] = Buffer.byteLength(text);
  }

  // The component's own packing (nginx files + drift guard), as `pulumi up` would do it.
  const configMaps: GenChildResult["configMaps"] = [];
  for (const limitBytes of [1024 * 1024, 900 * 1024]) {
    try {
      // Loaded only now, so that the peak RSS above is scan + render alone.
      const { planFromInventory } = await import("../src/kubernetes/plan");
      const plan = planFromInventory(inv, {
        port: 5000,
        namePrefix: "",
        maxConfigMapBytes: limitBytes,
        workerProcesses: 1,
      } as never);
      configMaps.push({ limitBytes, count: plan.shards.length, files: Object.keys(plan.files).length });
    } catch (e) {
      configMaps.push({ limitBytes, count: NaN, files: NaN, error: (e as Error).message.split("\n")[0] });
    }
  }
  const out: GenChildResult = {
    scanMs: t1 - t0,
    renderMs: t2 - t1,
    maxRssKiB,
    heapUsedMiB,
    files,
    totalBytes: Object.values(files).reduce((a, b) => a + b, 0),
    configMaps,
  };
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
