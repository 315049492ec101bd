/**
 * scan: images root on disk → Inventory. Reads the disk and nothing else.
 *
 * Manifests are small and always hashed (their digest is their identity).
 * Blobs are only located and sized; `verify` hashes them too.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { isValidName, isValidTag } from "./grammar";
import { MAX_MANIFEST_BYTES, MAX_METADATA_BYTES, parseManifest, sha256, type Descriptor } from "./manifest";
import {
  byteOrder,
  MediaType,
  type BlobRecord,
  type Digest,
  type Inventory,
  type ManifestRecord,
  type Problem,
  type RepositoryRecord,
  type TagRecord,
} from "./model";
import { checkReadable, errorMessage, readRegular } from "./files";
import { walk, type TagDir } from "./walk";

export interface ScanOptions {
  /** Hash every blob and report those whose content does not match their digest. */
  verify?: boolean;
  /** Called while verifying, with bytes hashed so far and the total. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

/** Where a blob is expected: which manifest wants it, and in which directories to look first. */
interface BlobWant {
  digest: Digest;
  size: number;
  /** The manifest file that references it (for problem messages). */
  from: string;
}

class ScanState {
  readonly problems: Problem[] = [];
  readonly warnings: Problem[] = [];
  readonly manifests = new Map<Digest, ManifestRecord>();
  /** digest → candidate files (relative paths) in walk order. */
  readonly blobFiles = new Map<Digest, string[]>();
  readonly wants: BlobWant[] = [];
  /** repository → tag → record (first source wins; a second is a problem). */
  readonly tags = new Map<string, Map<string, TagRecord>>();
  /**
   * Every manifest listed in an OCI layout's index.json, tagged or not, by repository.
   * Referrers (signatures, SBOMs) are usually untagged there, yet belong to the
   * repository and are served by digest.
   */
  readonly layoutRoots = new Map<string, Digest[]>();
  /** Manifest files already hashed (so a bad one is reported once). */
  readonly hashed = new Set<string>();

  constructor(
    readonly root: string,
    readonly realRoot: string,
  ) {}

  problem(file: string, message: string) {
    this.problems.push({ file, message });
  }

  addBlobFile(digest: Digest, rel: string) {
    const list = this.blobFiles.get(digest);
    if (list) list.push(rel);
    else this.blobFiles.set(digest, [rel]);
  }

  addTag(repo: string, tag: TagRecord) {
    let repoTags = this.tags.get(repo);
    if (!repoTags) this.tags.set(repo, (repoTags = new Map()));
    const prior = repoTags.get(tag.name);
    if (prior) {
      this.problem(tag.source, `duplicate tag ${repo}:${tag.name}, already defined by ${prior.source}`);
      return;
    }
    repoTags.set(tag.name, tag);
  }

  /**
   * Reads a manifest (or, with `metadata`, an index.json / oci-layout): a
   * regular file inside the root, within the size clients accept. Returns
   * undefined (and a problem) if not.
   */
  readInside(rel: string, what: "manifest" | "metadata" = "manifest"): Buffer | undefined {
    const limit = what === "manifest" ? MAX_MANIFEST_BYTES : MAX_METADATA_BYTES;
    const r = readRegular(this.realRoot, path.join(this.root, rel), limit, (size) =>
      what === "manifest"
        ? `is ${size} bytes; clients refuse manifests over 4 MiB (${MAX_MANIFEST_BYTES} bytes), so it could never be pulled`
        : `is ${size} bytes, more than the ${MAX_METADATA_BYTES} bytes this file may have`,
    );
    if ("bytes" in r) return r.bytes;
    if ("message" in r) this.problem(rel, r.message); // a link leaving the root is reported by walk
    return undefined;
  }
}

export async function scan(root: string, opts: ScanOptions = {}): Promise<Inventory> {
  const absRoot = path.resolve(root);
  let st: fs.Stats;
  try {
    st = fs.statSync(absRoot);
  } catch {
    throw new Error(`images root ${absRoot} does not exist`);
  }
  if (!st.isDirectory()) throw new Error(`images root ${absRoot} is not a directory`);

  const state = new ScanState(absRoot, fs.realpathSync(absRoot));
  const found = walk(absRoot);
  state.problems.push(...found.problems);
  state.warnings.push(...found.warnings);
  for (const dir of found.tagDirs) scanTagDir(state, dir);
  for (const layout of found.layouts) scanLayout(state, layout);

  const blobs = resolveBlobs(state);
  if (opts.verify) await verifyBlobs(state, blobs, opts.onProgress);
  return assemble(state, blobs);
}

// ---------------------------------------------------------------- skopeo dir:

/** `ROOT/<repo>/<tag>/manifest.json` plus `<hex>` blobs and `<hex>.manifest.json` children. */
function scanTagDir(state: ScanState, dir: TagDir) {
  const slash = dir.rel.lastIndexOf("/");
  const repo = slash < 0 ? "" : dir.rel.slice(0, slash);
  const tag = dir.rel.slice(slash + 1);
  const manifestRel = `${dir.rel}/manifest.json`;
  if (!repo) {
    state.problem(manifestRel, "a tag directory must sit inside a repository directory (ROOT/<repo>/<tag>/)");
    return;
  }
  if (!isValidName(repo)) {
    state.problem(dir.rel, `repository name ${JSON.stringify(repo)} breaks the distribution name grammar`);
    return;
  }
  if (!isValidTag(tag)) {
    state.problem(dir.rel, `tag ${JSON.stringify(tag)} breaks the distribution tag grammar`);
    return;
  }

  for (const f of dir.files) {
    if (/^[a-f0-9]{64}$/.test(f)) state.addBlobFile(`sha256:${f}`, `${dir.rel}/${f}`);
  }
  // Child manifests written by `skopeo copy --all`: their name is their digest.
  const children = new Map<Digest, string>();
  for (const f of dir.files) {
    const m = /^([a-f0-9]{64})\.manifest\.json$/.exec(f);
    if (m) children.set(`sha256:${m[1]}`, `${dir.rel}/${f}`);
  }

  const bytes = state.readInside(manifestRel);
  if (!bytes) return;
  const digest = sha256(bytes);
  const ok = addManifest(state, manifestRel, bytes, undefined, (child, from) => {
    const rel = children.get(child.digest);
    if (!rel) {
      state.problem(
        from,
        `references child manifest ${child.digest}, but ${dir.rel}/${child.digest.slice(7)}.manifest.json is missing`,
      );
      return undefined;
    }
    return rel;
  });
  if (ok) state.addTag(repo, { name: tag, digest, source: manifestRel });

  // Every <hex>.manifest.json must hash to its name, referenced or not.
  for (const [d, rel] of children) {
    if (state.hashed.has(rel)) continue; // already hashed while following the index
    const b = state.readInside(rel);
    if (b && sha256(b) !== d)
      state.problem(rel, `content hashes to ${sha256(b)}, not to the digest in its name`);
  }
}

// ---------------------------------------------------------------- OCI layout

/** `oci-layout` + `index.json` + `blobs/sha256/<hex>`; tags from ref.name annotations. */
function scanLayout(state: ScanState, rel: string) {
  const repo = rel;
  const layoutFile = rel ? `${rel}/oci-layout` : "oci-layout";
  const indexRel = rel ? `${rel}/index.json` : "index.json";
  if (!repo) {
    state.problem(
      layoutFile,
      "an OCI layout at the images root has no repository name; put it in ROOT/<repo>/",
    );
    return;
  }
  if (!isValidName(repo)) {
    state.problem(rel, `repository name ${JSON.stringify(repo)} breaks the distribution name grammar`);
    return;
  }
  const layoutBytes = state.readInside(layoutFile, "metadata");
  if (!layoutBytes) return;
  try {
    const l = JSON.parse(layoutBytes.toString("utf8"));
    if (typeof l?.imageLayoutVersion !== "string")
      state.problem(layoutFile, "has no imageLayoutVersion; is this an OCI image layout?");
  } catch (e) {
    state.problem(layoutFile, `is not valid JSON: ${(e as Error).message}`);
    return;
  }

  const blobDir = rel ? `${rel}/blobs/sha256` : "blobs/sha256";
  let names: string[] = [];
  try {
    names = fs.readdirSync(path.join(state.root, blobDir)).sort();
  } catch {
    state.problem(blobDir, "is missing (an OCI layout keeps its blobs there)");
  }
  for (const f of names) if (/^[a-f0-9]{64}$/.test(f)) state.addBlobFile(`sha256:${f}`, `${blobDir}/${f}`);

  const indexBytes = state.readInside(indexRel, "metadata");
  if (!indexBytes) return;
  const parsed = parseManifest(indexBytes, MediaType.ociIndex);
  if (Array.isArray(parsed)) {
    for (const p of parsed) state.problem(indexRel, p);
    return;
  }
  const roots: Digest[] = [];
  state.layoutRoots.set(repo, roots);
  const blobPath = (d: Descriptor) => `${blobDir}/${d.digest.slice(7)}`;
  parsed.children.forEach((desc, i) => {
    const manifestRel = blobPath(desc);
    if (!names.includes(desc.digest.slice(7))) {
      state.problem(indexRel, `manifests[${i}] references ${desc.digest}, which is not in ${blobDir}`);
      return;
    }
    const bytes = state.readInside(manifestRel);
    if (!bytes) return;
    if (sha256(bytes) !== desc.digest) {
      state.problem(manifestRel, `content hashes to ${sha256(bytes)}, not to ${desc.digest}`);
      return;
    }
    if (bytes.length !== desc.size)
      state.problem(indexRel, `manifests[${i}] says size ${desc.size}, file has ${bytes.length}`);
    const ok = addManifest(state, manifestRel, bytes, desc.mediaType, (child, from) => {
      if (!names.includes(child.digest.slice(7))) {
        state.problem(from, `references child manifest ${child.digest}, which is not in ${blobDir}`);
        return undefined;
      }
      return blobPath(child);
    });
    if (!ok) return;
    roots.push(desc.digest);
    const ref = desc.annotations?.["org.opencontainers.image.ref.name"];
    if (ref === undefined) return; // untagged manifests are still served by digest
    const tag = tagFromRefName(ref);
    if (!tag) state.problem(indexRel, `manifests[${i}]: ref.name ${JSON.stringify(ref)} is not a valid tag`);
    else state.addTag(repo, { name: tag, digest: desc.digest, source: indexRel });
  });
}

/** ref.name is usually a tag; some tools write a full reference (`host/name:tag`), whose tag we take. */
function tagFromRefName(ref: string): string | undefined {
  if (isValidTag(ref)) return ref;
  const m = /:([^:/@]+)$/.exec(ref);
  return m && isValidTag(m[1]) ? m[1] : undefined;
}

// ---------------------------------------------------------------- manifests

/**
 * Records a manifest (and, for an index, its children recursively). `childPath`
 * says where a child manifest lives, or reports that it is missing.
 * Returns false when the manifest itself is unusable.
 */
function addManifest(
  state: ScanState,
  rel: string,
  bytes: Buffer,
  hintMediaType: string | undefined,
  childPath: (child: Descriptor, from: string) => string | undefined,
  depth = 0,
): boolean {
  const digest = sha256(bytes);
  if (state.manifests.has(digest)) return true; // identical manifest seen elsewhere: serve the first copy
  const parsed = parseManifest(bytes, hintMediaType);
  if (Array.isArray(parsed)) {
    for (const p of parsed) state.problem(rel, p);
    return false;
  }
  const record: ManifestRecord = {
    digest,
    size: bytes.length,
    mediaType: parsed.mediaType,
    kind: parsed.kind,
    path: rel,
    children: parsed.children.map((c) => c.digest),
    blobs: parsed.blobs.map((b) => b.digest),
  };
  if (parsed.subject) record.subject = parsed.subject;
  if (parsed.artifactType) record.artifactType = parsed.artifactType;
  if (parsed.annotations && Object.keys(parsed.annotations).length) record.annotations = parsed.annotations;
  state.manifests.set(digest, record);

  for (const b of parsed.blobs) state.wants.push({ digest: b.digest, size: b.size, from: rel });
  if (depth > 8) {
    state.problem(rel, "indexes are nested more than 8 deep");
    return false;
  }
  for (const child of parsed.children) {
    const childRel = childPath(child, rel);
    if (!childRel) continue;
    state.hashed.add(childRel); // read (or reported) once
    const childBytes = state.readInside(childRel);
    if (!childBytes) continue;
    const actual = sha256(childBytes);
    if (actual !== child.digest) {
      state.problem(childRel, `content hashes to ${actual}, not to ${child.digest} as ${rel} says`);
      continue;
    }
    if (childBytes.length !== child.size)
      state.problem(
        rel,
        `says child manifest ${child.digest} has size ${child.size}, but it has ${childBytes.length} bytes`,
      );
    addManifest(state, childRel, childBytes, child.mediaType, childPath, depth + 1);
  }
  return true;
}

// ---------------------------------------------------------------- blobs

/**
 * One file per digest: the first candidate (walk order) that is a regular file
 * inside the root with the size the manifest declares. Copies and hardlinks
 * of the same blob elsewhere are equivalent; blobs are immutable.
 */
function resolveBlobs(state: ScanState): Map<Digest, BlobRecord> {
  const out = new Map<Digest, BlobRecord>();
  const reported = new Set<string>();
  for (const want of state.wants) {
    if (out.has(want.digest)) {
      const have = out.get(want.digest)!;
      if (have.size !== want.size && !reported.has(`${want.from} ${want.digest}`)) {
        reported.add(`${want.from} ${want.digest}`);
        state.problem(
          want.from,
          `says blob ${want.digest} has size ${want.size}, but ${have.path} has ${have.size} bytes`,
        );
      }
      continue;
    }
    const candidates = state.blobFiles.get(want.digest) ?? [];
    let wrongSize: { path: string; size: number } | undefined;
    let unusable: { path: string; message: string } | undefined;
    for (const rel of candidates) {
      const c = checkReadable(state.realRoot, path.join(state.root, rel));
      if ("outside" in c) continue; // reported by walk
      if ("message" in c) {
        unusable ??= { path: rel, message: c.message };
        continue;
      }
      const size = c.stats.size;
      if (size === want.size) {
        out.set(want.digest, { digest: want.digest, size, path: rel });
        break;
      }
      wrongSize ??= { path: rel, size };
    }
    if (out.has(want.digest)) continue;
    if (unusable) {
      // Any copy may serve a blob: only when none can is the unusable one a problem.
      if (!reported.has(unusable.path)) {
        reported.add(unusable.path);
        state.problem(unusable.path, unusable.message);
      }
    } else if (wrongSize) {
      state.problem(
        want.from,
        `says blob ${want.digest} has size ${want.size}, but ${wrongSize.path} has ${wrongSize.size} bytes`,
      );
    } else {
      state.problem(want.from, `references blob ${want.digest}, which is not on disk`);
    }
  }
  return out;
}

async function verifyBlobs(
  state: ScanState,
  blobs: Map<Digest, BlobRecord>,
  onProgress?: (done: number, total: number) => void,
) {
  const list = [...blobs.values()].sort((a, b) => byteOrder(a.path, b.path));
  const total = list.reduce((n, b) => n + b.size, 0);
  let done = 0;
  for (const b of list) {
    const hash = createHash("sha256");
    let read = 0;
    // A blob that cannot be read (now) is one problem among the others, not the end of the check.
    const failed = await new Promise<unknown>((resolve) => {
      fs.createReadStream(path.join(state.root, b.path), { highWaterMark: 1 << 20 })
        .on("data", (chunk) => {
          hash.update(chunk);
          read += chunk.length;
          onProgress?.(done + read, total);
        })
        .on("error", resolve)
        .on("end", () => resolve(undefined));
    });
    done += b.size;
    if (failed) {
      state.problem(b.path, errorMessage(failed));
      continue;
    }
    const actual = "sha256:" + hash.digest("hex");
    if (actual !== b.digest) state.problem(b.path, `content hashes to ${actual}, not to ${b.digest}`);
  }
}

// ---------------------------------------------------------------- assembly

function assemble(state: ScanState, blobs: Map<Digest, BlobRecord>): Inventory {
  const repositories: RepositoryRecord[] = [];
  const names = new Set([...state.tags.keys(), ...state.layoutRoots.keys()]);
  for (const name of names) {
    const tags = [...(state.tags.get(name)?.values() ?? [])].sort((a, b) => byteOrder(a.name, b.name));
    const manifests = new Set<Digest>();
    const repoBlobs = new Set<Digest>();
    const visit = (d: Digest) => {
      const m = state.manifests.get(d);
      if (!m || manifests.has(d)) return;
      manifests.add(d);
      for (const b of m.blobs) if (blobs.has(b)) repoBlobs.add(b);
      m.children.forEach(visit);
    };
    for (const t of tags) visit(t.digest);
    for (const d of state.layoutRoots.get(name) ?? []) visit(d);
    if (manifests.size === 0) continue;
    repositories.push({
      name,
      tags,
      manifests: [...manifests].sort(),
      blobs: [...repoBlobs].sort(),
    });
  }
  repositories.sort((a, b) => byteOrder(a.name, b.name));
  const sortedRecord = <T>(m: Map<Digest, T>) =>
    Object.fromEntries([...m].sort(([a], [b]) => byteOrder(a, b)));
  // Only manifests reachable from some repository are served; the rest are dropped.
  const reachable = new Set(repositories.flatMap((r) => r.manifests));
  const manifests = new Map([...state.manifests].filter(([d]) => reachable.has(d)));
  return {
    root: state.root,
    repositories,
    manifests: sortedRecord(manifests),
    blobs: sortedRecord(blobs),
    problems: sortProblems(state.problems),
    warnings: sortProblems(
      repositories.length
        ? state.warnings
        : [
            ...state.warnings,
            {
              file: ".",
              message: `no images found: ${state.root} holds no tag directory (<repo>/<tag>/manifest.json) and no OCI layout; is it the right directory?`,
            },
          ],
    ),
  };
}

const sortProblems = (list: Problem[]) =>
  list.sort((a, b) => byteOrder(a.file, b.file) || byteOrder(a.message, b.message));
