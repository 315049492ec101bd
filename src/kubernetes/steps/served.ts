/**
 * What is served, from the plan: repositories and tags (names as clients use
 * them, prefix included), totals, and the content hash. Registers nothing.
 */
import type { BuildContext } from "./context";

export function servedStep(ctx: BuildContext): void {
  const { plan, args: a } = ctx;
  ctx.outputs.repositories = plan.inventory.repositories.map((r) => ({
    name: `${a.namePrefix}${r.name}`,
    tags: r.tags.map((t) => ({ tag: t.name, digest: t.digest })),
  }));
  ctx.outputs.summary = plan.summary;
  ctx.outputs.totalBytes = plan.summary.bytes;
  ctx.outputs.contentHash = plan.contentHash;
}
