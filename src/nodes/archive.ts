/**
 * The registry's own image as a local archive (`registryImage.archive`): the
 * image name it holds — the name containerd gives it on `ctr images import`,
 * which the pods then use — and the archive's sha256.
 *
 * Reads only what is needed: the tar headers (skipping file bodies) and the
 * small `manifest.json` (docker-archive: `RepoTags`) or `index.json`
 * (oci-archive: `io.containerd.image.name`, else a full reference in
 * `org.opencontainers.image.ref.name`, as `mirror --archive` writes).
 */
import * as fs from "node:fs";
import { canonicalReference, parseReference } from "../mirror/reference";

const BLOCK = 512;

function field(buf: Buffer, off: number, len: number): string {
  const s = buf.subarray(off, off + len);
  const z = s.indexOf(0);
  return s.subarray(0, z < 0 ? len : z).toString("utf8");
}

/** The text of the top-level files `wanted` in the tar file (uncompressed), by name. */
export function readTarFiles(file: string, wanted: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const fd = fs.openSync(file, "r");
  try {
    const header = Buffer.alloc(BLOCK);
    let pos = 0;
    let longName: string | undefined;
    for (;;) {
      if (fs.readSync(fd, header, 0, BLOCK, pos) < BLOCK) break;
      if (header.every((b) => b === 0)) break;
      const size = parseInt(field(header, 124, 12).trim() || "0", 8);
      const type = String.fromCharCode(header[156] || 48);
      const prefix = field(header, 345, 155);
      let name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
      longName = undefined;
      const body = () => {
        const b = Buffer.alloc(size);
        fs.readSync(fd, b, 0, size, pos + BLOCK);
        return b.toString("utf8");
      };
      if (type === "L") longName = body().replace(/\0+$/, "");
      else if (type === "x") {
        const m = /\d+ path=([^\n]*)\n/.exec(body());
        if (m) longName = m[1];
      } else if (type === "0" || type === "\0") {
        name = name.replace(/^\.\//, "");
        if (wanted.includes(name) && size < 4 * 1024 * 1024) out.set(name, body());
      }
      pos += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

/** Full name from a reference-like string, or undefined when it is not a full image reference. */
function fullName(ref: unknown): string | undefined {
  if (typeof ref !== "string" || !/[/:]/.test(ref)) return undefined;
  try {
    return canonicalReference(parseReference(ref));
  } catch {
    return undefined;
  }
}

/** The image name the archive holds (as containerd names it), or throws saying why not. */
export function archiveImageName(file: string): string {
  const files = readTarFiles(file, ["manifest.json", "index.json", "oci-layout"]);
  const docker = files.get("manifest.json");
  if (docker !== undefined) {
    const tags = (JSON.parse(docker) as { RepoTags?: string[] }[]).flatMap((m) => m.RepoTags ?? []);
    const name = tags.map(fullName).find((n) => n !== undefined);
    if (name) return name;
    throw new Error(`${file}: a docker-archive without a RepoTags name; set registryImage.name`);
  }
  const index = files.get("index.json");
  if (index !== undefined) {
    const doc = JSON.parse(index) as { manifests?: { annotations?: Record<string, string> }[] };
    for (const m of doc.manifests ?? []) {
      const a = m.annotations ?? {};
      const name =
        fullName(a["io.containerd.image.name"]) ?? fullName(a["org.opencontainers.image.ref.name"]);
      if (name) return name;
    }
    throw new Error(
      `${file}: an oci-archive whose index.json names no full image reference; set registryImage.name`,
    );
  }
  throw new Error(`${file}: not a docker-archive or oci-archive (no manifest.json or index.json at its top)`);
}
