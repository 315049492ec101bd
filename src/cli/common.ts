import { parseHostPort } from "../hostPort";
import type { Inventory, ScanOptions } from "../inventory";
import { problemList, problemText } from "../problemList";
import { UsageError } from "./errors";

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/**
 * Scans ROOT, turning a missing/unreadable root into a usage error. With
 * `progress` and a terminal on stderr, `--verify` shows how far hashing got.
 */
export async function loadInventory(
  root: string,
  scan: (root: string, opts?: ScanOptions) => Promise<Inventory>,
  opts: { verify?: boolean; progress?: boolean } = {},
): Promise<Inventory> {
  const tty = opts.progress && process.stderr.isTTY;
  let last = 0;
  const onProgress = tty
    ? (done: number, total: number) => {
        const now = Date.now();
        if (now - last < 100 && done < total) return;
        last = now;
        const pct = total ? Math.floor((done / total) * 100) : 100;
        process.stderr.write(`\rverifying blobs: ${formatBytes(done)} / ${formatBytes(total)} (${pct}%)   `);
      }
    : undefined;
  try {
    const inv = await scan(root, { verify: opts.verify, onProgress });
    if (tty && opts.verify) process.stderr.write("\n");
    return inv;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Warnings go to stderr (stdout may be the config), so a wrong ROOT is noticed. */
export function printWarnings(inv: Inventory): void {
  for (const w of inv.warnings ?? []) process.stderr.write(`warning: ${w.file}: ${w.message}\n`);
}

/** Refuses to go on with a broken tree: no partial output. */
export function requireClean(inv: Inventory): void {
  if (!inv.problems.length) return;
  throw new UsageError(
    `${inv.root} has ${inv.problems.length} problem(s); nothing was written:\n${problemList(inv.problems.map(problemText), "")}\n` +
      `(run \`static-container-registry check ${inv.root}\` after fixing them)`,
    1,
  );
}

export function parseListen(listen: string): { host: string; port: number } {
  const hp = parseHostPort(listen, { port: true });
  if (!hp) {
    throw new UsageError(`--listen ${JSON.stringify(listen)} is not HOST:PORT or PORT (e.g. 127.0.0.1:5000)`);
  }
  return { host: hp.host ?? "0.0.0.0", port: hp.port! };
}

/** `--name-prefix mirror` and `--name-prefix mirror/` both serve `mirror/<name>`. */
export function normalizePrefix(prefix: string | undefined): string | undefined {
  if (!prefix) return undefined;
  return prefix.endsWith("/") ? prefix : `${prefix}/`;
}
