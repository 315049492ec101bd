/**
 * Synthetic skopeo `dir:` trees of any size, written directly (no skopeo):
 * REPO/TAG/{manifest.json, version, <config hex>, <layer hex>} with a Docker
 * v2 schema 2 manifest. Content is derived from the names, so the same
 * arguments always give the same digests.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { hex as sha } from "../inventory/tree";

export interface SyntheticTree {
  root: string;
  tags: { repo: string; tag: string; digest: string }[];
}

export function writeSyntheticTree(
  root: string,
  opts: { repos: number; tagsPerRepo: number; layerBytes?: number; repoName?: (i: number) => string },
): SyntheticTree {
  const tags: SyntheticTree["tags"] = [];
  const repoName = opts.repoName ?? ((i: number) => `team-${String(i).padStart(3, "0")}/service`);
  for (let r = 0; r < opts.repos; r++) {
    const repo = repoName(r);
    for (let t = 0; t < opts.tagsPerRepo; t++) {
      const tag = `v1.${t}.0`;
      const dir = path.join(root, repo, tag);
      fs.mkdirSync(dir, { recursive: true });
      const layer = Buffer.alloc(opts.layerBytes ?? 64, `${repo}:${tag}`);
      const config = Buffer.from(
        JSON.stringify({
          architecture: "amd64",
          os: "linux",
          config: { Labels: { ref: `${repo}:${tag}` } },
          rootfs: { type: "layers", diff_ids: [`sha256:${sha(layer)}`] },
        }),
      );
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.docker.distribution.manifest.v2+json",
          config: {
            mediaType: "application/vnd.docker.container.image.v1+json",
            size: config.length,
            digest: `sha256:${sha(config)}`,
          },
          layers: [
            {
              mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
              size: layer.length,
              digest: `sha256:${sha(layer)}`,
            },
          ],
        }),
      );
      fs.writeFileSync(path.join(dir, sha(layer)), layer);
      fs.writeFileSync(path.join(dir, sha(config)), config);
      fs.writeFileSync(path.join(dir, "manifest.json"), manifest);
      fs.writeFileSync(path.join(dir, "version"), "Directory Transport Version: 1.1\n");
      tags.push({ repo, tag, digest: `sha256:${sha(manifest)}` });
    }
  }
  return { root, tags };
}
