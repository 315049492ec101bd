/**
 * The demo's images dir, built offline in a moment: both layouts the
 * registry reads, and an image one can run.
 *
 *   demo/hello   an OCI image layout, tags 1.0 and latest: an index of a
 *                linux/amd64 and a linux/arm64 image whose entrypoint
 *                prints a greeting (elf.ts)
 *   demo/notes   a skopeo dir: tree, tag 1.0: one linux/amd64 image holding
 *                a text file
 *
 * Same bytes, same digests on every run and machine (oci.ts, tar.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { helloExecutable, type Arch } from "./elf";
import { addImage, addIndex, BlobStore, writeDirTag, writeOciLayout, type Descriptor } from "./oci";
import { makeLayer } from "./tar";

/** What the greeting program prints. */
export const DEMO_GREETING =
  "Hello from static-container-registry: this image came from plain nginx and files.";

export interface DemoImage {
  /** repository:tag */
  reference: string;
  digest: string;
  /** "OCI image layout, index" or "skopeo dir: tree" */
  layout: string;
  platforms: string[];
  /** Whether its entrypoint runs (prints {@link DEMO_GREETING}). */
  runnable: boolean;
}

const ARCHES: Arch[] = ["amd64", "arm64"];

/** Writes the demo images under `root` (created; must not hold anything yet) and says what it wrote. */
export async function buildDemoTree(root: string): Promise<DemoImage[]> {
  fs.mkdirSync(root, { recursive: true });
  if (fs.readdirSync(root).length > 0) throw new Error(`${root} is not empty`);
  const store = new BlobStore();

  const hello = [];
  for (const arch of ARCHES) {
    const layer = await makeLayer([
      { path: "hello", content: helloExecutable(arch, `${DEMO_GREETING}\n`), mode: 0o755 },
    ]);
    const platform = { os: "linux", architecture: arch };
    const img = addImage(store, {
      platform,
      layers: [layer],
      entrypoint: ["/hello"],
      labels: {
        "org.opencontainers.image.title": "hello",
        "org.opencontainers.image.description": DEMO_GREETING,
      },
    });
    hello.push({ manifest: img.manifest, platform });
  }
  const index: Descriptor = addIndex(store, hello);
  writeOciLayout(path.join(root, "demo", "hello"), store, [
    { tag: "1.0", manifest: index },
    { tag: "latest", manifest: index },
  ]);

  const notes = addImage(store, {
    platform: { os: "linux", architecture: "amd64" },
    layers: [
      await makeLayer([
        {
          path: "notes/README.txt",
          content: "A data-only image: no program, one file. Served from a skopeo dir: tree.\n",
        },
      ]),
    ],
    labels: { "org.opencontainers.image.title": "notes" },
  });
  writeDirTag(path.join(root, "demo", "notes", "1.0"), store, notes.manifest);

  const layoutPlatforms = ARCHES.map((a) => `linux/${a}`);
  return [
    {
      reference: "demo/hello:1.0",
      digest: index.digest,
      layout: "OCI image layout, index",
      platforms: layoutPlatforms,
      runnable: true,
    },
    {
      reference: "demo/hello:latest",
      digest: index.digest,
      layout: "OCI image layout, index",
      platforms: layoutPlatforms,
      runnable: true,
    },
    {
      reference: "demo/notes:1.0",
      digest: notes.manifest.digest,
      layout: "skopeo dir: tree",
      platforms: ["linux/amd64"],
      runnable: false,
    },
  ];
}
