/**
 * The per-object data: entries of ONE nginx map (`$scr_k` → `$scr_obj`, see
 * maps.ts), one line per key. Keys are exact: nothing that is not a key here
 * is ever served. (The lists are entries of another map, read by njs:
 * listData.ts.)
 *
 *   <rid>:<tag>     the manifest a tag names
 *   <rid>@<hex>     the manifest or blob sha256:<hex> of the repository
 *
 * `<rid>` is the repository's id: where all data is in one place (part "all",
 * standalone) a short base-36 number given by the repository map
 * (`$scr_name` → `$scr_rid`), else (part "data") the repository name itself.
 * One key per (repository, digest), but see shared blobs below: a manifest
 * is also served under /blobs/ from the same entry. Values are small typed
 * records that the constants take apart with one regex each:
 *
 *   M<type>|<hex>|<file>   a manifest: media type (one-letter code or the
 *                          type itself), digest hex (empty when the key
 *                          holds it), its file (files.ts)
 *   B<file>                a blob
 *   ?                      (regex entries) the repository exists, the object does not
 *
 * Blobs that several repositories hold (base layers) are not written once
 * per (repository, blob) but once, in a second map keyed by the digest hex
 * (`$scr_hex` → `$scr_shared`): `<group>|<file>`, the file relative to the
 * root. A group is a set of repositories (the layers of one base image
 * usually share theirs), and a third map says which repositories are in
 * which group (`<rid>/<group>` → 1). Both are read only when the lookup map
 * has no entry (through its miss value `$scr_known`, maps.ts): the hot path
 * is unchanged, and the miss path is three hash lookups whatever the number
 * of repositories. Only where repositories have ids (part "all"); a data
 * part keeps one entry per (repository, blob).
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
import { fileField, type FilePlace } from "./files";
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
  /** With `repositoryIds`: `name id;` lines for the repository map. */
  repositories: string[];
  /** Entries of the list map (listData.ts). */
  lists: string[];
  /** With `repositoryIds`: `hex group|file;` lines of the shared-blob map. */
  shared: string[];
  /** With `repositoryIds`: `rid/group 1;` lines of the group map. */
  members: string[];
}

export interface DataEntriesOptions {
  /**
   * Where all data is in one place (part "all", standalone): repositories
   * get short ids from an exact map (the lookup's key is then shorter, and a
   * miss costs one hash lookup whatever the number of repositories), and
   * records name files relative to `$scr_root` and the repository's
   * directory. A data part merged with other roots (part "data") uses the
   * names as ids, tells known repositories with regexes and writes its root
   * into its records, so it stays one map's lines.
   */
  repositoryIds?: boolean;
}

/** The id of the i-th repository (in name order): base 36, lower case. */
export function repositoryId(i: number): string {
  return i.toString(36);
}

/** The data lines of an inventory: exact keys first, then regexes. */
export function dataEntries(
  inv: Inventory,
  o: ResolvedRenderOptions,
  eo: DataEntriesOptions = {},
): DataEntries {
  const out = new Emitter();
  const lists: string[] = [];
  const repos = inv.repositories
    .map((repo) => ({ repo, name: o.namePrefix + repo.name }))
    .sort((a, b) => byteOrder(a.name, b.name));
  const repositories: string[] = [];
  const ids = repos.map(({ repo, name }, i) => {
    if (!isValidName(name))
      throw new RenderError(`repository name ${JSON.stringify(name)} breaks the name grammar`);
    return { repo, name, id: eo.repositoryIds ? repositoryId(i) : name };
  });
  const shared = eo.repositoryIds ? sharedBlobs(inv, ids) : { lines: [], members: [], covers: () => false };
  for (const { repo, name, id } of ids) {
    if (eo.repositoryIds) repositories.push(`${token(name)} ${token(id)};`);
    const place: FilePlace = eo.repositoryIds
      ? { rootPrefix: "", repoDir: `${repo.name}/` }
      : { rootPrefix: o.serverRoot === "/" ? "/" : `${o.serverRoot}/` };
    repositoryEntries(inv, repo, id, place, out, (d) => shared.covers(d, id));
    lists.push(...repositoryListLines(inv, repo, name));
  }
  const names = repos.map((r) => r.name);
  if (o.catalog) lists.push(...catalogLines(names));
  if (!eo.repositoryIds) out.repositoryRegexes(names);
  return { ...out.result(), repositories, lists, shared: shared.lines, members: shared.members };
}

/**
 * The shared-blob entries (see the top of this file): every blob that two or
 * more repositories hold (and that is not a manifest of theirs), its group
 * (one per distinct set of repositories, numbered in digest order), and the
 * groups' members. `covers` tells which (blob, repository) pairs they answer,
 * so that those get no entry of their own.
 */
function sharedBlobs(
  inv: Inventory,
  repos: readonly { repo: RepositoryRecord; id: string }[],
): { lines: string[]; members: string[]; covers: (d: Digest, id: string) => boolean } {
  const holders = new Map<Digest, string[]>();
  for (const { repo, id } of repos) {
    const manifests = new Set(repo.manifests);
    for (const d of repo.blobs) {
      if (manifests.has(d) || !inv.blobs[d] || !isSha256Digest(d)) continue;
      const h = holders.get(d);
      if (h) h.push(id);
      else holders.set(d, [id]);
    }
  }
  const groups = new Map<string, string>();
  const members: string[] = [];
  const covered = new Map<Digest, Set<string>>();
  const lines: string[] = [];
  for (const [d, ids] of [...holders].sort(([a], [b]) => byteOrder(a, b))) {
    if (ids.length < 2) continue;
    const set = ids.join(",");
    let group = groups.get(set);
    if (group === undefined) {
      group = groups.size.toString(36);
      groups.set(set, group);
      for (const id of ids) members.push(`${id}/${group} 1;`);
    }
    covered.set(d, new Set(ids));
    lines.push(`${hex(d)} ${token(`${group}|${fileField(inv.blobs[d].path, hex(d), { rootPrefix: "" })}`)};`);
  }
  return { lines, members, covers: (d, id) => covered.get(d)?.has(id) ?? false };
}

function repositoryEntries(
  inv: Inventory,
  repo: RepositoryRecord,
  id: string,
  place: FilePlace,
  out: Emitter,
  sharedEntry: (d: Digest) => boolean,
): void {
  const manifest = (d: Digest, why: string): ManifestRecord => {
    const m = inv.manifests[d];
    if (!m) throw new RenderError(`${why} in ${repo.name}: manifest ${d} is not in the inventory`);
    return m;
  };

  const tags = [...repo.tags].sort((a, b) => byteOrder(a.name, b.name));
  for (const t of tags) {
    if (!isValidTag(t.name))
      throw new RenderError(`tag ${JSON.stringify(t.name)} of ${repo.name} breaks the tag grammar`);
    checkDigest(t.digest, repo);
    out.add(`${id}:${t.name}`, manifestValue(manifest(t.digest, `tag ${t.name}`), place, t.name));
  }

  // By digest; a manifest is also what /blobs/<its digest> serves (as the reference registry does).
  for (const d of repo.manifests) {
    checkDigest(d, repo);
    out.add(`${id}@${hex(d)}`, manifestValue(manifest(d, "manifest list"), place));
  }

  for (const d of repo.blobs) {
    checkDigest(d, repo);
    const b = inv.blobs[d];
    const m = inv.manifests[d];
    if (!b && !m) throw new RenderError(`blob ${d} of ${repo.name} is not in the inventory`);
    // Also a manifest of this repository: already served from the manifest's entry (same bytes).
    if (out.has(`${id}@${hex(d)}`) || sharedEntry(d)) continue;
    out.add(`${id}@${hex(d)}`, `B${fileField(b ? b.path : m.path, hex(d), place)}`);
  }

  for (const d of repo.manifests) {
    const s = inv.manifests[d]?.subject;
    if (s !== undefined) checkDigest(s, repo);
  }
}

function hex(d: Digest): string {
  return d.slice("sha256:".length);
}

function checkDigest(d: string, repo: RepositoryRecord): void {
  if (!isSha256Digest(d))
    throw new RenderError(`digest ${JSON.stringify(d)} in ${repo.name} is not sha256:<64 hex>`);
}

const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#&^_.+-]{0,126}$/;

/**
 * A manifest record. `tag`: the record of this tag, which carries the digest
 * (by digest, nginx takes it from the URL).
 */
export function manifestValue(m: ManifestRecord, place: FilePlace, tag?: string): string {
  const type = CODE_OF[m.mediaType] ?? m.mediaType;
  if (!CODE_OF[m.mediaType] && !MEDIA_TYPE_RE.test(m.mediaType)) {
    throw new RenderError(`manifest ${m.digest} has an unusable media type ${JSON.stringify(m.mediaType)}`);
  }
  return `M${type}|${tag === undefined ? "" : hex(m.digest)}|${fileField(m.path, hex(m.digest), place, tag)}`;
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
    const head = "~^!?(?:";
    const tail = ")[:@]";
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

  result(): Omit<DataEntries, "repositories" | "lists" | "shared" | "members"> {
    // Upper-case keys before the "repository exists" regexes: the first matching regex wins.
    return { exact: this.exact, regex: [...this.upper, ...this.regex] };
  }
}
