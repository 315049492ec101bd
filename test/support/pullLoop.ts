/**
 * A kubelet's pulls, in a loop, on a simulated node: each round pulls one
 * image through the node's CRI image service (so containerd fetches through
 * its hosts.toml files, as for a pod), checks that the runtime recorded the
 * expected manifest digest, and removes the image again, so that the next pull
 * of it fetches everything anew. Every pull is recorded with its start, its
 * duration and its outcome, for the test to slice by phase.
 */
import type { CriImageClient } from "./cri";

export interface PullRecord {
  node: string;
  ref: string;
  /** ms since the epoch. */
  start: number;
  ms: number;
  /** undefined when the pull succeeded with the expected digest. */
  error?: string;
}

export interface PullLoop {
  records: PullRecord[];
  /** Stops after the pull in flight; resolves when the loop has ended. */
  stop: () => Promise<void>;
}

/** Pulls `images` (reference → expected manifest digest) in turn on `node` until stopped. */
export function startPullLoop(
  node: string,
  cri: CriImageClient,
  images: ReadonlyMap<string, string>,
  timeoutMs = 120000,
): PullLoop {
  const records: PullRecord[] = [];
  const refs = [...images.keys()];
  let stopping = false;
  const done = (async () => {
    for (let i = 0; !stopping; i++) {
      const ref = refs[i % refs.length];
      const start = Date.now();
      let error: string | undefined;
      try {
        await cri.pull(ref, timeoutMs);
        const st = await cri.status(ref);
        const want = `@${images.get(ref)}`;
        if (!st?.repoDigests.some((d) => d.endsWith(want)))
          error = `pulled ${ref} but the runtime records ${JSON.stringify(st?.repoDigests)}, not ${want}`;
      } catch (e) {
        error = (e as Error).message;
      }
      records.push({ node, ref, start, ms: Date.now() - start, ...(error ? { error } : {}) });
      try {
        await cri.remove(ref);
      } catch {
        /* the next pull reports what is wrong */
      }
    }
  })();
  return {
    records,
    stop: async () => {
      stopping = true;
      await done;
    },
  };
}

/** The p-th percentile (0..100) of `values` by the nearest-rank method. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** "n pulls, p50 X ms, max Y ms, F failed" for the records that started in [from, to). */
export function summarize(records: readonly PullRecord[], from: number, to: number) {
  const inPhase = records.filter((r) => r.start >= from && r.start < to);
  const ms = inPhase.map((r) => r.ms);
  return {
    pulls: inPhase.length,
    failed: inPhase.filter((r) => r.error !== undefined),
    p50: percentile(ms, 50),
    max: ms.length ? Math.max(...ms) : NaN,
  };
}
