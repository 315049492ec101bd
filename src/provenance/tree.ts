/**
 * The far-side check (`check --verify-key`): every image of a scanned tree is
 * verified as the mirror verified it, from what the tree holds — its
 * `sha256-<hex>.sig` tag beside it, read from disk — so an image that arrived
 * unsigned, or whose signature was altered or swapped on the way, is a
 * problem naming the image.
 *
 * Images are the tags that are not themselves provenance (a cosign `.sig`,
 * `.att`, `.sbom` tag or a referrers index) and whose manifest has no
 * `subject` (a referrer is not an image to run). A `sha256-<hex>` tag holding
 * the manifest of that very digest is an image (a digest-only reference).
 * The identity a signature must name is the repository's original name: its
 * first component is the upstream host (`docker.io/library/alpine`); in a tree
 * without host directories, the repository name alone.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Inventory, Problem, RepositoryRecord } from "../inventory/model";
import { hostOfRepository } from "../mirror/reference";
import type { VerifyKey } from "./keys";
import type { Identity } from "./payload";
import { parseProvenanceTag, provenanceTag } from "./tags";
import { verifySignatures } from "./verify";

export interface TreeVerification {
  /** `repo:tag` and the key its signature verified under, for each image that passed. */
  verified: { image: string; key: string }[];
  /** One per image that did not pass, naming it and why. */
  problems: Problem[];
}

/** The identity signatures of images in `repository` must name. */
export function repositoryIdentity(repository: string): Identity {
  const host = hostOfRepository(repository);
  return host !== undefined
    ? { host, path: repository.slice(repository.indexOf("/") + 1) }
    : { path: repository };
}

/** Whether a tag of `repo` is an image to verify (see the header). */
function isImageTag(inv: Inventory, name: string, digest: string): boolean {
  const p = parseProvenanceTag(name);
  if (p && !(p.kind === "referrers" && p.subject === digest)) return false;
  return inv.manifests[digest]?.subject === undefined;
}

function readInTree(inv: Inventory, rel: string | undefined): Buffer | undefined {
  if (rel === undefined) return undefined;
  try {
    return fs.readFileSync(path.join(inv.root, ...rel.split("/")));
  } catch {
    return undefined;
  }
}

function verifyRepository(
  inv: Inventory,
  repo: RepositoryRecord,
  keys: readonly VerifyKey[],
  out: TreeVerification,
) {
  const byName = new Map(repo.tags.map((t) => [t.name, t]));
  const identity = repositoryIdentity(repo.name);
  for (const t of repo.tags) {
    if (!isImageTag(inv, t.name, t.digest)) continue;
    const sigTag = provenanceTag("signature", t.digest);
    const sig = byName.get(sigTag);
    const verdict = verifySignatures(
      {
        tag: sigTag,
        manifest: sig && readInTree(inv, inv.manifests[sig.digest]?.path),
        blob: (d) => readInTree(inv, inv.blobs[d]?.path),
      },
      t.digest,
      identity,
      keys,
    );
    const image = `${repo.name}:${t.name}`;
    if (verdict.ok) out.verified.push({ image, key: verdict.key.name });
    else
      out.problems.push({
        file: t.source,
        message: `${image} (${t.digest}) did not verify: ${verdict.message}`,
      });
  }
}

/** Verifies every image of `inv` under `keys` (see the header). */
export function verifyTree(inv: Inventory, keys: readonly VerifyKey[]): TreeVerification {
  const out: TreeVerification = { verified: [], problems: [] };
  for (const repo of inv.repositories) verifyRepository(inv, repo, keys, out);
  return out;
}
