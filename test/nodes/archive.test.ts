/**
 * The registry image's name, read from its archive the way `ctr images
 * import` names it: docker-archive `RepoTags`, oci-archive annotations
 * (`io.containerd.image.name`, else a full `org.opencontainers.image.ref.name`
 * as `mirror --archive` writes), long member names included.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { archiveImageName } from "../../src/nodes/archive";
import { makeTar, type LayerEntry } from "../../src/demo/tar";
import { tmpDir } from "../support/tools";

const work = tmpDir("archive");
after(() => fs.rmSync(work, { recursive: true, force: true }));

async function archive(file: string, entries: LayerEntry[]): Promise<string> {
  const p = path.join(work, file);
  fs.writeFileSync(p, await makeTar(entries));
  return p;
}

const filler: LayerEntry = { path: `blobs/sha256/${"a".repeat(64)}`, content: Buffer.alloc(3000, 1) };
const index = (annotations: Record<string, string>) =>
  JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", annotations }],
  });

describe("archiveImageName", () => {
  const named: { description: string; entries: LayerEntry[]; want: string }[] = [
    {
      description: "docker-archive RepoTags, normalised",
      entries: [filler, { path: "manifest.json", content: JSON.stringify([{ RepoTags: ["nginx:1.27"] }]) }],
      want: "docker.io/library/nginx:1.27",
    },
    {
      description: "oci-archive with a full ref.name (mirror --archive)",
      entries: [
        filler,
        { path: "oci-layout", content: '{"imageLayoutVersion":"1.0.0"}' },
        {
          path: "index.json",
          content: index({ "org.opencontainers.image.ref.name": "quay.io/org/nginx:1.27" }),
        },
      ],
      want: "quay.io/org/nginx:1.27",
    },
    {
      description: "oci-archive with containerd's name annotation before a bare tag",
      entries: [
        {
          path: "index.json",
          content: index({
            "org.opencontainers.image.ref.name": "1.27",
            "io.containerd.image.name": "registry.example/x/nginx:1.27",
          }),
        },
      ],
      want: "registry.example/x/nginx:1.27",
    },
  ];
  for (const c of named) {
    it(c.description, async () => {
      assert.equal(archiveImageName(await archive(`${c.description.length}.tar`, c.entries)), c.want);
    });
  }

  const refused: { description: string; entries: LayerEntry[]; want: RegExp }[] = [
    {
      description: "a docker-archive without a name",
      entries: [{ path: "manifest.json", content: JSON.stringify([{ RepoTags: null }]) }],
      want: /without a RepoTags name; set registryImage\.name/,
    },
    {
      description: "an oci-archive whose ref.name is only a tag",
      entries: [{ path: "index.json", content: index({ "org.opencontainers.image.ref.name": "1.27" }) }],
      want: /names no full image reference; set registryImage\.name/,
    },
    {
      description: "a tar that is no image archive",
      entries: [filler],
      want: /not a docker-archive or oci-archive/,
    },
  ];
  for (const c of refused) {
    it(`refuses ${c.description}`, async () => {
      const file = await archive(`bad-${c.description.length}.tar`, c.entries);
      assert.throws(() => archiveImageName(file), c.want);
    });
  }
});
