/**
 * The registry image's name, read from its archive the way `ctr images
 * import` names it: docker-archive `RepoTags`, oci-archive annotations
 * (`io.containerd.image.name`, else a full `org.opencontainers.image.ref.name`
 * as `mirror --archive` writes), with member names over tar's 100 bytes in
 * each of the ways tar stores them (GNU long-name entries, PAX path records,
 * ustar's prefix field), written by GNU tar itself.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { archiveImageName, readTarFiles } from "../../src/nodes/archive";
import { makeTar, type LayerEntry } from "../../src/demo/tar";
import { requireTool, run, tmpDir } from "../support/tools";

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

/** The type flags of an archive's headers in order, a prefix-field mark (`P`) after each that has one. */
function headerKinds(file: string): string {
  const buf = fs.readFileSync(file);
  let kinds = "";
  for (let pos = 0; pos + 512 <= buf.length;) {
    const h = buf.subarray(pos, pos + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(h.subarray(124, 136).toString("latin1").replace(/\0.*$/s, "").trim() || "0", 8);
    kinds += String.fromCharCode(h[156] || 48) + (h[345] !== 0 && h[257] === 0x75 ? "P" : "");
    pos += 512 + Math.ceil(size / 512) * 512;
  }
  return kinds;
}

describe("member names over 100 bytes", () => {
  /** No "/" to split at: GNU tar stores it as a long-name entry (gnu) or a PAX path record (pax). */
  const unsplittable = "n".repeat(120);
  const longDir = "d".repeat(100);
  /** Splittable: ustar puts the directory in the header's prefix field. */
  const splittable = `${longDir}/layer.tar`;
  /** Not the archive's manifest.json: a reader that dropped the prefix would take it for that. */
  const decoy = `${longDir}/manifest.json`;
  const cases = [
    // Per member: a long-name entry (L) or a PAX record (x) before the file's own header (0), P: prefix set.
    { format: "gnu", long: unsplittable, kinds: "L0" + "0" + "L0" },
    { format: "pax", long: unsplittable, kinds: "x0" + "x0" + "x0" },
    { format: "ustar", long: splittable, kinds: "0P" + "0" + "0P" },
  ];
  for (const c of cases) {
    it(`${c.format} format: the long-named member is found by its whole name, and the image name is the top-level manifest's`, (t) => {
      if (!requireTool(t, "tar")) return;
      const src = path.join(work, `src-${c.format}`);
      fs.mkdirSync(path.join(src, longDir), { recursive: true });
      fs.writeFileSync(path.join(src, c.long), "the long-named member");
      fs.writeFileSync(path.join(src, "manifest.json"), JSON.stringify([{ RepoTags: ["nginx:1.27"] }]));
      fs.writeFileSync(path.join(src, decoy), JSON.stringify([{ RepoTags: ["decoy.example/not:this"] }]));
      const file = path.join(work, `long-${c.format}.tar`);
      // The long member first (a name carried over to the next entry would hide manifest.json), the decoy last.
      run("tar", [`--format=${c.format}`, "-C", src, "-cf", file, c.long, "manifest.json", decoy]);
      // What is in the archive, as tar lists it, and how it stored the names.
      assert.deepEqual(run("tar", ["-tf", file]).stdout.split("\n").filter(Boolean), [
        c.long,
        "manifest.json",
        decoy,
      ]);
      assert.ok(c.long.length > 100 && decoy.length > 100);
      assert.equal(headerKinds(file), c.kinds);

      const got = readTarFiles(file, [c.long, "manifest.json", decoy]);
      assert.equal(got.get(c.long), "the long-named member");
      assert.equal(got.get(decoy), JSON.stringify([{ RepoTags: ["decoy.example/not:this"] }]));
      assert.equal(archiveImageName(file), "docker.io/library/nginx:1.27");
    });
  }
});
