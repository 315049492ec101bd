import { scan, summarize, type Inventory } from "../inventory";
import { formatBytes, loadInventory } from "./common";

export interface CheckOptions {
  verify?: boolean;
  json?: boolean;
}

/** `check`: summary + every problem; 0 when clean, 1 when there are problems. */
export async function runCheck(root: string, opts: CheckOptions): Promise<number> {
  const inv: Inventory = await loadInventory(root, scan, { verify: opts.verify, progress: !opts.json });
  const s = summarize(inv);
  if (opts.json) {
    process.stdout.write(
      JSON.stringify({ root: inv.root, summary: s, problems: inv.problems }, null, 2) + "\n",
    );
  } else {
    const out = [
      `${inv.root}`,
      `  repositories  ${s.repositories}`,
      `  tags          ${s.tags}`,
      `  manifests     ${s.manifests}`,
      `  unique blobs  ${s.blobs}`,
      `  bytes         ${s.bytes} (${formatBytes(s.bytes)})`,
    ];
    if (inv.problems.length) {
      out.push(`${inv.problems.length} problem${inv.problems.length === 1 ? "" : "s"}:`);
      for (const p of inv.problems) out.push(`  ${p.file}: ${p.message}`);
    } else {
      out.push(opts.verify ? "no problems (every blob hashed)" : "no problems");
    }
    process.stdout.write(out.join("\n") + "\n");
  }
  return inv.problems.length ? 1 : 0;
}
