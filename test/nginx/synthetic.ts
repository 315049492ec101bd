/**
 * Synthetic inventories (no files on disk) for render's unit tests and size
 * measurements: `repos` repositories of `tagsPerRepo` tags, each tag its own
 * image manifest with a shared base layer, its own config and `layers` layers,
 * skopeo dir: paths; every tenth tag an OCI index with two children.
 */
import type {
  BlobRecord,
  Digest,
  Inventory,
  ManifestRecord,
  RepositoryRecord,
} from "../../src/inventory/model";
import { MediaType, byteOrder } from "../../src/inventory/model";
import { sha256 } from "../../src/inventory";

const digestOf = (s: string): Digest => sha256(s);

export interface SyntheticOptions {
  repos: number;
  tagsPerRepo: number;
  layers?: number;
  root?: string;
}

export function syntheticInventory(o: SyntheticOptions): Inventory {
  const layers = o.layers ?? 2;
  const manifests: Record<Digest, ManifestRecord> = {};
  const blobs: Record<Digest, BlobRecord> = {};
  const repositories: RepositoryRecord[] = [];
  const base = digestOf("base layer");
  for (let r = 0; r < o.repos; r++) {
    const name = `team${r % 7}/service-${String(r).padStart(4, "0")}`;
    const tags: RepositoryRecord["tags"] = [];
    const repoManifests = new Set<Digest>();
    const repoBlobs = new Set<Digest>();
    for (let t = 0; t < o.tagsPerRepo; t++) {
      const tag = `v1.${Math.floor(t / 10)}.${t % 10}`;
      const dir = `${name}/${tag}`;
      const blob = (seed: string) => {
        const d = seed === "base" ? base : digestOf(`${dir}/${seed}`);
        blobs[d] ??= { digest: d, size: 1000, path: `${dir}/${d.slice(7)}` };
        repoBlobs.add(d);
        return d;
      };
      const image = (seed: string, file: string): Digest => {
        const bs = [
          blob(`${seed}config`),
          blob("base"),
          ...Array.from({ length: layers - 1 }, (_, i) => blob(`${seed}l${i}`)),
        ];
        const d = digestOf(`${dir}/${seed}manifest`);
        manifests[d] = {
          digest: d,
          size: 500,
          mediaType: MediaType.dockerManifest,
          kind: "image",
          path: file,
          children: [],
          blobs: bs,
        };
        repoManifests.add(d);
        return d;
      };
      let top: Digest;
      if (t % 10 === 9) {
        const a = image("amd64-", `${dir}/${digestOf(`${dir}/amd64-manifest`).slice(7)}.manifest.json`);
        const b = image("arm64-", `${dir}/${digestOf(`${dir}/arm64-manifest`).slice(7)}.manifest.json`);
        top = digestOf(`${dir}/index`);
        manifests[top] = {
          digest: top,
          size: 700,
          mediaType: MediaType.ociIndex,
          kind: "index",
          path: `${dir}/manifest.json`,
          children: [a, b],
          blobs: [],
        };
        repoManifests.add(top);
      } else {
        top = image("", `${dir}/manifest.json`);
      }
      tags.push({ name: tag, digest: top, source: `${dir}/manifest.json` });
    }
    repositories.push({
      name,
      tags: tags.sort((a, b) => byteOrder(a.name, b.name)),
      manifests: [...repoManifests].sort(byteOrder),
      blobs: [...repoBlobs].sort(byteOrder),
    });
  }
  repositories.sort((a, b) => byteOrder(a.name, b.name));
  return { root: o.root ?? "/srv/images", repositories, manifests, blobs, problems: [] };
}
