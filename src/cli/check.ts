import { scan, summarize, type Inventory } from "../inventory";
import { verifyTree, type TreeVerification } from "../provenance/tree";
import { formatBytes, loadInventory } from "./common";
import { readKeyFiles } from "./provenance";

export interface CheckOptions {
  verify?: boolean;
  json?: boolean;
  /** Public key files: every image must be signed by one of them. */
  verifyKey?: string[];
}

/**
 * `check`: summary, every warning and every problem; 0 when there are no
 * problems (warnings do not count), 1 when there are.
 */
export async function runCheck(root: string, opts: CheckOptions): Promise<number> {
  const { keys } = readKeyFiles(opts.verifyKey ?? []);
  const inv: Inventory = await loadInventory(root, scan, { verify: opts.verify, progress: !opts.json });
  let signatures: TreeVerification | undefined;
  if (keys.length) {
    signatures = verifyTree(inv, keys);
    inv.problems.push(...signatures.problems);
  }
  const s = summarize(inv);
  if (opts.json) {
    process.stdout.write(
      JSON.stringify(
        {
          root: inv.root,
          summary: s,
          ...(signatures ? { signed: signatures.verified } : {}),
          problems: inv.problems,
          warnings: inv.warnings ?? [],
        },
        null,
        2,
      ) + "\n",
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
    if (signatures)
      out.push(
        `  signed        ${signatures.verified.length} of ${signatures.verified.length + signatures.problems.length} images (keys: ${keys.map((k) => k.name).join(", ")})`,
      );
    const warnings = inv.warnings ?? [];
    if (warnings.length) {
      out.push(`${warnings.length} warning${warnings.length === 1 ? "" : "s"}:`);
      for (const w of warnings) out.push(`  ${w.file}: ${w.message}`);
    }
    if (inv.problems.length) {
      out.push(`${inv.problems.length} problem${inv.problems.length === 1 ? "" : "s"}:`);
      for (const p of inv.problems) out.push(`  ${p.file}: ${p.message}`);
    } else {
      const notes = [opts.verify && "every blob hashed", signatures && "every image signed"].filter(Boolean);
      out.push(notes.length ? `no problems (${notes.join(", ")})` : "no problems");
    }
    process.stdout.write(out.join("\n") + "\n");
  }
  return inv.problems.length ? 1 : 0;
}
