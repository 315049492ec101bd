/**
 * Where skopeo really goes for a repository: containers-registries.conf(5),
 * read as skopeo 1.9 (containers/image 5.23) reads it, so that what the
 * mirror fetches over HTTP itself (the referrers API) comes from the same
 * registry as skopeo's copies.
 *
 * Followed: `[[registry]]` tables chosen by the longest matching `prefix`
 * (`host[:port][/namespace…]`, or `*.domain` for any subdomain; a missing
 * prefix is the location), `location` rewriting (the prefix replaced by the
 * location; none for a wildcard prefix without one), `insecure` (plain HTTP
 * allowed and TLS not verified), `blocked`, `[[registry.mirror]]` tables with
 * their own `location` / `insecure` and `pull-from-mirror`, and
 * `mirror-by-digest-only`; the version 1 format's `[registries.insecure]` and
 * `[registries.block]` lists; drop-in files (`registries.conf.d/*.conf`),
 * merged by prefix in name order, which containers/image reads even beside an
 * explicit `--registries-conf` file. Not relevant here (every reference is
 * fully qualified before it gets here): `unqualified-search-registries`,
 * short-name aliases and modes. Not followed: `credential-helpers` (the auth
 * files are read, see authFile.ts).
 *
 * The pure part (parse, merge, resolve) takes texts; `loadRegistriesConf`
 * finds and reads the files.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseToml } from "smol-toml";

export type PullFromMirror = "all" | "digest-only" | "tag-only";

export interface Endpoint {
  /** `host[:port][/path]`, no scheme, no trailing slash; "" only for a wildcard prefix (no rewrite). */
  location: string;
  insecure: boolean;
}

export interface MirrorEndpoint extends Endpoint {
  pullFromMirror: PullFromMirror;
}

export interface RegistryEntry extends Endpoint {
  prefix: string;
  blocked: boolean;
  mirrorByDigestOnly: boolean;
  mirrors: MirrorEndpoint[];
}

export interface RegistriesConf {
  registries: RegistryEntry[];
  /** The files read, in order (named in error messages). */
  files: string[];
}

/** A registries.conf that containers/image would refuse; the message names the file. */
export class RegistriesConfError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`registries.conf ${file}: ${reason}`);
    this.name = "RegistriesConfError";
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A location or prefix as containers/image keeps it: trailing slashes trimmed, no URL scheme. */
function parseLocation(value: unknown, field: string, file: string): string {
  if (value === undefined) return "";
  if (typeof value !== "string") throw new RegistriesConfError(file, `${field} must be a string`);
  const trimmed = value.replace(/\/+$/, "");
  if (/^https?:\/\//.test(trimmed))
    throw new RegistriesConfError(file, `${field} "${value}": URI schemes are not supported`);
  return trimmed;
}

function bool(value: unknown, field: string, file: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") throw new RegistriesConfError(file, `${field} must be true or false`);
  return value;
}

function entryOf(raw: unknown, i: number, file: string): RegistryEntry {
  const at = `[[registry]] #${i + 1}`;
  if (!isObject(raw)) throw new RegistriesConfError(file, `${at} is not a table`);
  const location = parseLocation(raw.location, `${at} location`, file);
  let prefix = parseLocation(raw.prefix, `${at} prefix`, file);
  if (prefix === "") {
    if (location === "") throw new RegistriesConfError(file, `${at}: both location and prefix are unset`);
    prefix = location;
  } else if (!prefix.startsWith("*.") && location === "") {
    throw new RegistriesConfError(
      file,
      `${at}: location is unset and prefix is not of the form *.example.com`,
    );
  }
  if (prefix.startsWith("*.") && /[/@:]/.test(prefix))
    throw new RegistriesConfError(
      file,
      `${at}: a wildcard prefix must be of the form *.example.com, not "${prefix}"`,
    );
  if (raw["pull-from-mirror"] !== undefined)
    throw new RegistriesConfError(file, `${at}: pull-from-mirror is for mirrors, not for "${prefix}"`);
  const mirrorByDigestOnly = bool(raw["mirror-by-digest-only"], `${at} mirror-by-digest-only`, file);
  const rawMirrors = raw.mirror ?? [];
  if (!Array.isArray(rawMirrors))
    throw new RegistriesConfError(file, `${at} mirror must be an array of tables`);
  const mirrors = rawMirrors.map((m, j): MirrorEndpoint => {
    const mat = `${at} mirror #${j + 1}`;
    if (!isObject(m)) throw new RegistriesConfError(file, `${mat} is not a table`);
    const loc = parseLocation(m.location, `${mat} location`, file);
    if (loc === "") throw new RegistriesConfError(file, `${mat}: location is unset`);
    const pfm = m["pull-from-mirror"] ?? "";
    if (pfm !== "" && mirrorByDigestOnly)
      throw new RegistriesConfError(
        file,
        `${mat}: pull-from-mirror cannot go with the registry's mirror-by-digest-only`,
      );
    if (!["", "all", "digest-only", "tag-only"].includes(pfm as string))
      throw new RegistriesConfError(
        file,
        `${mat}: unsupported pull-from-mirror value ${JSON.stringify(pfm)}`,
      );
    return {
      location: loc,
      insecure: bool(m.insecure, `${mat} insecure`, file),
      pullFromMirror: (pfm || "all") as PullFromMirror,
    };
  });
  return {
    prefix,
    location,
    insecure: bool(raw.insecure, `${at} insecure`, file),
    blocked: bool(raw.blocked, `${at} blocked`, file),
    mirrorByDigestOnly,
    mirrors,
  };
}

/** The version 1 format's lists, as registry entries (containers/image converts them the same way). */
function fromV1(v1: Record<string, unknown>, file: string): RegistryEntry[] {
  const list = (k: string): string[] => {
    const t = v1[k];
    if (t === undefined) return [];
    const r = isObject(t) ? t.registries : undefined;
    if (!Array.isArray(r) || !r.every((x) => typeof x === "string"))
      throw new RegistriesConfError(file, `[registries.${k}] registries must be a list of strings`);
    return r as string[];
  };
  const byLocation = new Map<string, RegistryEntry>();
  const get = (loc: string) => {
    const location = parseLocation(loc, "registries", file);
    let e = byLocation.get(location);
    if (!e) {
      e = {
        prefix: location,
        location,
        insecure: false,
        blocked: false,
        mirrorByDigestOnly: false,
        mirrors: [],
      };
      byLocation.set(location, e);
    }
    return e;
  };
  for (const b of list("block")) get(b).blocked = true;
  for (const i of list("insecure")) get(i).insecure = true;
  list("search"); // checked for shape; unqualified names never get here
  return [...byLocation.values()];
}

/**
 * The registry entries of one file's text. `dropIn` files must use the
 * version 2 format. Entries repeating a prefix: the first wins (as in
 * containers/image); two entries for one location must agree on `insecure`
 * and `blocked`.
 */
export function parseRegistriesConf(text: string, file: string, dropIn = false): RegistryEntry[] {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (e) {
    throw new RegistriesConfError(file, `not valid TOML: ${(e as Error).message.split("\n")[0]}`);
  }
  const v2 = doc.registry;
  const hasV2 = (Array.isArray(v2) && v2.length > 0) || doc["unqualified-search-registries"] !== undefined;
  const v1 = isObject(doc.registries) ? doc.registries : undefined;
  const hasV1 = v1 !== undefined && ["search", "insecure", "block"].some((k) => v1[k] !== undefined);
  let entries: RegistryEntry[];
  if (hasV1) {
    if (dropIn) throw new RegistriesConfError(file, "a drop-in file must use the version 2 format");
    if (hasV2) throw new RegistriesConfError(file, "mixes the version 1 and version 2 formats");
    entries = fromV1(v1, file);
  } else {
    if (v2 !== undefined && !Array.isArray(v2))
      throw new RegistriesConfError(file, "registry must be an array of tables ([[registry]])");
    entries = ((v2 as unknown[] | undefined) ?? []).map((r, i) => entryOf(r, i, file));
  }
  const byLoc = new Map<string, RegistryEntry>();
  for (const e of entries) {
    const key = e.location || e.prefix;
    const other = byLoc.get(key);
    if (other && (other.insecure !== e.insecure || other.blocked !== e.blocked))
      throw new RegistriesConfError(
        file,
        `registry "${key}" is defined more than once with conflicting insecure or blocked settings`,
      );
    byLoc.set(key, e);
  }
  const seen = new Set<string>();
  return entries.filter((e) => !seen.has(e.prefix) && seen.add(e.prefix));
}

/** `base` with the entries of `dropIn` added, an entry of the same prefix replaced. */
export function mergeRegistries(
  base: readonly RegistryEntry[],
  dropIn: readonly RegistryEntry[],
): RegistryEntry[] {
  const byPrefix = new Map(base.map((e) => [e.prefix, e]));
  for (const e of dropIn) byPrefix.set(e.prefix, e);
  return [...byPrefix.values()];
}

/**
 * How much of `name` (`host[:port]/path`, maybe with `:tag` or `@digest`)
 * `prefix` matches, or -1: the name must start with the prefix and go on
 * with `/`, `:` or `@`, or end there; `*.domain` matches any subdomain.
 */
export function prefixMatch(name: string, prefix: string): number {
  if (prefix.startsWith("*.")) {
    const at = name.indexOf(prefix.slice(1));
    if (at < 0 || name.slice(0, at).includes("/")) return -1;
    const end = at + prefix.length - 1;
    return end === name.length || ":/@".includes(name[end]) ? end : -1;
  }
  if (!name.startsWith(prefix)) return -1;
  return name.length === prefix.length || ":/@".includes(name[prefix.length]) ? prefix.length : -1;
}

/** The entry for `name` (the longest matching prefix), or undefined. */
export function findRegistry(conf: RegistriesConf, name: string): RegistryEntry | undefined {
  let best: RegistryEntry | undefined;
  for (const e of conf.registries)
    if (prefixMatch(name, e.prefix) >= 0 && e.prefix.length > (best?.prefix.length ?? 0)) best = e;
  return best;
}

/** One place to try: the repository there (`host[:port]/path`) and how to reach it. */
export interface PullSource {
  /** `host[:port]`: what to connect to (and to look credentials and certificates up by). */
  host: string;
  /** The repository's path on that host. */
  path: string;
  insecure: boolean;
  /** A mirror, not the primary location. */
  mirror: boolean;
}

/** The registry is blocked in the configuration. */
export class BlockedError extends Error {
  constructor(
    readonly name: string,
    readonly prefix: string,
    files: readonly string[],
  ) {
    super(`${name} is blocked in ${files.join(" or ") || "registries.conf"} (prefix "${prefix}")`);
    this.name = "BlockedError";
  }
}

function split(physical: string): { host: string; path: string } {
  const slash = physical.indexOf("/");
  return { host: physical.slice(0, slash), path: physical.slice(slash + 1) };
}

/**
 * Where skopeo tries `name` (`host/path`), in order: the mirrors that apply
 * (all of them for a request `byDigest`, else none when
 * `mirror-by-digest-only`; a mirror's `pull-from-mirror` likewise), then the
 * primary location. Throws BlockedError for a blocked registry.
 */
export function pullSources(conf: RegistriesConf, name: string, byDigest: boolean): PullSource[] {
  const entry = findRegistry(conf, name);
  if (!entry) return [{ ...split(name), insecure: false, mirror: false }];
  if (entry.blocked) throw new BlockedError(name, entry.prefix, conf.files);
  const mirrors = entry.mirrorByDigestOnly
    ? byDigest
      ? entry.mirrors
      : []
    : entry.mirrors.filter((m) =>
        m.pullFromMirror === "digest-only" ? byDigest : m.pullFromMirror === "tag-only" ? !byDigest : true,
      );
  const matched = prefixMatch(name, entry.prefix);
  const rewrite = (location: string) => (location === "" ? name : location + name.slice(matched));
  return [
    ...mirrors.map((m) => ({ ...split(rewrite(m.location)), insecure: m.insecure, mirror: true })),
    { ...split(rewrite(entry.location)), insecure: entry.insecure, mirror: false },
  ].map((s) => {
    // Blocked applies to where the request really goes, too (containers/image checks the physical name).
    const there = findRegistry(conf, `${s.host}/${s.path}`);
    if (there?.blocked && there !== entry)
      throw new BlockedError(`${s.host}/${s.path}`, there.prefix, conf.files);
    return s;
  });
}

export interface LoadOptions {
  /** The file given to skopeo (`--registries-conf`), if any. */
  file?: string;
  /** Home directory (default: the user's). */
  home?: string;
  /** /etc/containers (tests point it elsewhere). */
  etc?: string;
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR")
      return undefined;
    throw new RegistriesConfError(file, (e as Error).message);
  }
}

function dropIns(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => !d.isDirectory() && d.name.endsWith(".conf"))
      .map((d) => path.join(dir, d.name))
      .sort();
  } catch {
    return [];
  }
}

/**
 * The configuration in effect, as containers/image 5.23 finds it: the given
 * file (which must exist), else `~/.config/containers/registries.conf` if it
 * exists (then only the user's drop-ins), else /etc/containers/registries.conf
 * (may be absent); then the drop-ins of /etc/containers/registries.conf.d and
 * ~/.config/containers/registries.conf.d, in name order.
 */
export function loadRegistriesConf(o: LoadOptions = {}): RegistriesConf {
  const home = o.home ?? os.homedir();
  const etc = o.etc ?? "/etc/containers";
  const userFile = path.join(home, ".config", "containers", "registries.conf");
  const userDir = path.join(home, ".config", "containers", "registries.conf.d");
  let main: string;
  let dirs: string[];
  if (o.file) {
    main = o.file;
    dirs = [path.join(etc, "registries.conf.d"), userDir];
  } else if (fs.existsSync(userFile)) {
    main = userFile;
    dirs = [userDir];
  } else {
    main = path.join(etc, "registries.conf");
    dirs = [path.join(etc, "registries.conf.d"), userDir];
  }
  const files: string[] = [];
  let registries: RegistryEntry[] = [];
  const text = readIfExists(main);
  if (text === undefined && o.file) throw new RegistriesConfError(main, "does not exist");
  if (text !== undefined) {
    registries = parseRegistriesConf(text, main);
    files.push(main);
  }
  for (const f of dirs.flatMap(dropIns)) {
    const t = readIfExists(f);
    if (t === undefined) continue;
    registries = mergeRegistries(registries, parseRegistriesConf(t, f, true));
    files.push(f);
  }
  return { registries, files };
}
