/**
 * The per-object data: entries of ONE nginx map (`$scr_k` → `$scr_obj`, see
 * maps.ts), one line per key. Keys are exact request keys (the normalised
 * `$uri`), so nothing that is not a key here is ever served. (The lists are
 * entries of another map, read by njs: listData.ts.) Values are small typed records that the
 * constants' regex maps take apart:
 *
 *   M<type>|<hex>|<file>   a manifest: media type (one-letter code or the
 *                          type itself), digest hex (empty when the key is
 *                          the digest), file to serve
 *   B<file>                a blob (or a manifest fetched under /blobs/)
 *   b<dir>/                a blob whose file is <dir>/<hex of the URL>
 *   ?                      (regex entries) the repository exists, the object does not
 *
 * Why one map: a data part must be includable into the constants as a plain
 * list of entries, so that several images roots can be merged into one map
 * (include.ts). One map also means one hash lookup per request.
 *
 * nginx compares exact map keys case-insensitively, but tags are
 * case-sensitive. So keys with an upper-case letter are written as
 * case-sensitive regexes on "!" + key, and the locations prefix the lookup
 * key with "!" when it has an upper-case letter (maps.ts). Lower-case keys stay
 * in the hash; the regexes are only tried on misses and upper-case lookups.
 */
import { isSha256Digest, isValidName, isValidTag } from "../inventory/grammar";
import type { Digest, Inventory, ManifestRecord, RepositoryRecord } from "../inventory/model";
import { MediaType, byteOrder } from "../inventory/model";
import { MAX_TOKEN_BYTES, RenderError, quoted, quotedLength, regexLiteral, token } from "./escape";
import type { ResolvedRenderOptions } from "./options";
import { catalogLines, repositoryListLines } from "./listData";

/** One-letter codes for the common manifest media types (saves ~50 bytes per manifest key). */
export const MEDIA_TYPE_CODES: Readonly<Record<string, string>> = {
  d: MediaType.dockerManifest,
  l: MediaType.dockerManifestList,
  o: MediaType.ociManifest,
  i: MediaType.ociIndex,
};
const CODE_OF: Record<string, string> = Object.fromEntries(
  Object.entries(MEDIA_TYPE_CODES).map(([c, t]) => [t, c]),
);

/** The map value that means "the repository exists, but not this object". */
export const KNOWN_REPO = "?";

export interface DataEntries {
  /** `key value;` lines for exact keys, in a fixed order. */
  exact: string[];
  /** `"~regex" value;` lines, in the order nginx must try them. */
  regex: string[];
  /** With `exactRepositories`: `name "?";` lines for the repository map. */
  repositories: string[];
  /** Entries of the list map (listData.ts). */
  lists: string[];
}

export interface DataEntriesOptions {
  /**
   * Tell known repositories by an exact lookup in a map of their own (the
   * lookup map's default) instead of regexes in the lookup map: a miss then
   * costs one hash lookup whatever the number of repositories (bench: a 404
   * at 1,000 repositories took 9.4 µs of CPU with the regexes, 8.0 µs
   * exact). Only where all data is in one place: a data part merged with
   * other roots (part "data") keeps the regexes, so it stays one map's lines.
   */
  exactRepositories?: boolean;
}

/** The data lines of an inventory: exact keys first, then regexes. */
export function dataEntries(
  inv: Inventory,
  o: ResolvedRenderOptions,
  eo: DataEntriesOptions = {},
): DataEntries {
  const out = new Emitter();
  const names: string[] = [];
  const lists: string[] = [];
  for (const repo of inv.repositories) {
    const name = o.namePrefix + repo.name;
    if (!isValidName(name))
      throw new RenderError(`repository name ${JSON.stringify(name)} breaks the name grammar`);
    names.push(name);
    repositoryEntries(inv, repo, name, o, out);
    lists.push(...repositoryListLines(inv, repo, name));
  }
  if (o.catalog) lists.push(...catalogLines(names));
  if (!eo.exactRepositories) {
    out.repositoryRegexes(names);
    return { ...out.result(), repositories: [], lists };
  }
  const repositories = [...names].sort(byteOrder).map((n) => `${token(n)} ${token(KNOWN_REPO)};`);
  return { ...out.result(), repositories, lists };
}

function repositoryEntries(
  inv: Inventory,
  repo: RepositoryRecord,
  name: string,
  o: ResolvedRenderOptions,
  out: Emitter,
): void {
  const base = `/v2/${name}`;
  const manifest = (d: Digest, why: string): ManifestRecord => {
    const m = inv.manifests[d];
    if (!m) throw new RenderError(`${why} in ${repo.name}: manifest ${d} is not in the inventory`);
    return m;
  };

  const tags = [...repo.tags].sort((a, b) => byteOrder(a.name, b.name));
  for (const t of tags) {
    if (!isValidTag(t.name))
      throw new RenderError(`tag ${JSON.stringify(t.name)} of ${repo.name} breaks the tag grammar`);
    out.add(`${base}/manifests/${t.name}`, manifestValue(manifest(t.digest, `tag ${t.name}`), o));
  }

  for (const d of repo.manifests) {
    checkDigest(d, repo);
    const m = manifest(d, "manifest list");
    out.add(`${base}/manifests/${d}`, manifestValue(m, o, true));
    // A manifest fetched under /blobs/ is served as a blob (as the reference registry does).
    out.add(`${base}/blobs/${d}`, blobValue(m.path, d, o));
  }

  for (const d of repo.blobs) {
    checkDigest(d, repo);
    const b = inv.blobs[d];
    const m = inv.manifests[d];
    if (!b && !m) throw new RenderError(`blob ${d} of ${repo.name} is not in the inventory`);
    // Also a manifest of this repository: already served from the manifest's file (same bytes).
    if (out.has(`${base}/blobs/${d}`)) continue;
    out.add(`${base}/blobs/${d}`, blobValue(b ? b.path : m.path, d, o));
  }

  for (const d of repo.manifests) {
    const s = inv.manifests[d]?.subject;
    if (s !== undefined) checkDigest(s, repo);
  }
}

function checkDigest(d: string, repo: RepositoryRecord): void {
  if (!isSha256Digest(d))
    throw new RenderError(`digest ${JSON.stringify(d)} in ${repo.name} is not sha256:<64 hex>`);
}

/** `root/path` for a path relative to the images root; refuses anything that could leave it. */
export function filePath(root: string, rel: string): string {
  if (
    rel === "" ||
    rel.startsWith("/") ||
    rel.split("/").some((seg) => seg === "" || seg === "." || seg === "..") ||
    /[\u0000-\u001f\u007f$\\]/.test(rel)
  ) {
    throw new RenderError(`inventory path ${JSON.stringify(rel)} is not a plain relative path`);
  }
  return root === "/" ? `/${rel}` : `${root}/${rel}`;
}

const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#&^_.+-]{0,126}$/;

/**
 * A manifest record. `byDigest`: the key holds the digest, so the record
 * leaves it out (nginx takes it from the URL): 64 bytes less per key.
 */
export function manifestValue(m: ManifestRecord, o: ResolvedRenderOptions, byDigest = false): string {
  const type = CODE_OF[m.mediaType] ?? m.mediaType;
  if (!CODE_OF[m.mediaType] && !MEDIA_TYPE_RE.test(m.mediaType)) {
    throw new RenderError(`manifest ${m.digest} has an unusable media type ${JSON.stringify(m.mediaType)}`);
  }
  return `M${type}|${byDigest ? "" : m.digest.slice("sha256:".length)}|${filePath(o.serverRoot, m.path)}`;
}

export function blobValue(rel: string, digest: Digest, o: ResolvedRenderOptions): string {
  const hex = digest.slice("sha256:".length);
  const full = filePath(o.serverRoot, rel);
  // Most blob files are named by their hex: store the directory, nginx appends the hex from the URL.
  return full.endsWith(`/${hex}`) ? `b${full.slice(0, -hex.length)}` : `B${full}`;
}

/** Collects entries, refusing two different values for one key. */
class Emitter {
  private readonly exact: string[] = [];
  private readonly upper: string[] = [];
  private readonly regex: string[] = [];
  private readonly seen = new Map<string, string>();

  has(key: string): boolean {
    return this.seen.has(key);
  }

  add(key: string, value: string): void {
    const prev = this.seen.get(key);
    if (prev !== undefined) {
      if (prev === value) return;
      throw new RenderError(`two different objects for ${key}`);
    }
    this.seen.set(key, value);
    if (/[A-Z]/.test(key)) this.upper.push(`${quoted(`~^!${regexLiteral(key)}$`)} ${token(value)};`);
    else this.exact.push(`${token(key)} ${token(value)};`);
  }

  addRegex(re: string, value: string): void {
    this.regex.push(`${quoted(`~${re}`)} ${token(value)};`);
  }

  /**
   * "The repository exists": one regex per group of names, each short enough
   * for one token, tried only when the exact lookup missed.
   */
  repositoryRegexes(names: string[]): void {
    const head = "~^!?/v2/(?:";
    const tail = ")/(?:manifests|blobs|tags|referrers)/";
    let group: string[] = [];
    const flush = () => {
      if (group.length) this.regex.push(`${quoted(head + group.join("|") + tail)} ${KNOWN_REPO};`);
      group = [];
    };
    for (const n of names) {
      const alt = regexLiteral(n);
      if (group.length && quotedLength(head + [...group, alt].join("|") + tail) > MAX_TOKEN_BYTES) flush();
      group.push(alt);
    }
    flush();
  }

  result(): Omit<DataEntries, "repositories" | "lists"> {
    // Upper-case keys before the "repository exists" regexes: the first matching regex wins.
    return { exact: this.exact, regex: [...this.upper, ...this.regex] };
  }
}
