/**
 * Packing the rendered files into ConfigMaps.
 *
 * Kubernetes refuses a ConfigMap whose data (keys plus values) exceeds 1 MiB.
 * A registry with thousands of tags renders a bigger config than that, so the
 * files are packed into as many ConfigMaps as needed and all of them are
 * projected into one directory of the pod: nginx sees one flat config dir
 * whatever the number of ConfigMaps.
 */
import { createHash } from "node:crypto";

/** ConfigMap keys: the kubelet turns each into a file name in the projected dir. */
const CONFIGMAP_KEY_RE = /^[-._a-zA-Z0-9]+$/;

/** The files of one ConfigMap. */
export interface Shard {
  /** 0-based position; ConfigMap names are derived from it. */
  index: number;
  /** File name → content, in name order. */
  files: Record<string, string>;
  /** Bytes Kubernetes counts for this ConfigMap's data (UTF-8 keys + values). */
  bytes: number;
}

/** Bytes a file costs in a ConfigMap's data, as the API server counts them. */
export function entryBytes(name: string, content: string): number {
  return Buffer.byteLength(name, "utf8") + Buffer.byteLength(content, "utf8");
}

/**
 * Packs `files` into shards of at most `maxBytes` each (first fit, in file
 * name order, so the result is deterministic and small configs stay in one
 * ConfigMap). Throws if a file name is not a valid ConfigMap key, or if one
 * file alone is bigger than `maxBytes` (the renderer must split such files).
 */
export function shardFiles(files: Record<string, string>, maxBytes: number): Shard[] {
  const names = Object.keys(files).sort();
  if (names.length === 0) throw new Error("no files to put into ConfigMaps");
  const shards: Shard[] = [];
  for (const name of names) {
    if (!CONFIGMAP_KEY_RE.test(name) || name === "." || name === ".." || name.startsWith("..")) {
      throw new Error(
        `"${name}" cannot be a ConfigMap key (file names must match [-._a-zA-Z0-9]+ and not start with "..")`,
      );
    }
    const size = entryBytes(name, files[name]);
    if (size > maxBytes) {
      throw new Error(
        `rendered file "${name}" is ${size} bytes, more than fits into one ConfigMap (${maxBytes} bytes); it must be split when rendering`,
      );
    }
    let shard = shards.find((s) => s.bytes + size <= maxBytes);
    if (!shard) {
      shard = { index: shards.length, files: {}, bytes: 0 };
      shards.push(shard);
    }
    shard.files[name] = files[name];
    shard.bytes += size;
  }
  return shards;
}

/**
 * A stable hash of a set of files (names and contents), used in the pod
 * template so that any change of config or images rolls the pods.
 */
export function filesHash(files: Record<string, string>): string {
  const h = createHash("sha256");
  for (const name of Object.keys(files).sort()) {
    // Length-prefix both parts so that no two different maps hash alike.
    const content = Buffer.from(files[name], "utf8");
    h.update(`${Buffer.byteLength(name)}:${name}:${content.length}:`);
    h.update(content);
  }
  return h.digest("hex");
}
