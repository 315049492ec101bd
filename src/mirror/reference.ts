/**
 * Image references as Docker reads them, and where their upstream host sits
 * in an images tree.
 *
 * Normalisation follows Docker's reference rules (distribution/reference):
 * the first path component is a registry host when it contains `.` or `:`, is
 * `localhost`, or has an upper-case letter; otherwise the host is `docker.io`,
 * and a one-component Docker Hub name gets `library/`. No tag and no digest
 * means `:latest`. So `alpine:3.19` is `docker.io/library/alpine:3.19`.
 *
 * In the images tree the host is the first directory (`ROOT/<host>/<path>/`),
 * and the registry serves `<host>/<path>` as the repository name. Repository
 * names cannot hold `:`, so a port is written `_<port>` there
 * (`localhost:5000` → `localhost_5000`); {@link hostOfRepository} reads that
 * back. This module is the one home of both rules.
 */

/** A parsed, normalised image reference. */
export interface ImageReference {
  /** The text as given. */
  input: string;
  /** Registry host, lower case, with an optional `:port` (e.g. `docker.io`, `localhost:5000`). */
  host: string;
  /** Repository path on that host (e.g. `library/alpine`). */
  path: string;
  /** The tag, if any (`latest` when neither tag nor digest was given). */
  tag?: string;
  /** `sha256:<64 hex>`, if the reference is pinned. */
  digest?: string;
}

/** A reference that Docker's rules reject; the message says why. */
export class ReferenceError extends Error {
  constructor(
    readonly reference: string,
    readonly reason: string,
  ) {
    super(`${JSON.stringify(reference)}: ${reason}`);
    this.name = "ReferenceError";
  }
}

const DOCKER_HUB = "docker.io";
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_LABEL = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const NAME_MAX = 255;

/** Whether a reference's first path component names a registry host (Docker's rule). */
export function looksLikeHost(component: string): boolean {
  return /[.:]/.test(component) || component === "localhost" || component !== component.toLowerCase();
}

/** Parses and normalises `ref`; throws {@link ReferenceError} for anything Docker would refuse. */
export function parseReference(ref: string): ImageReference {
  const bad = (reason: string) => new ReferenceError(ref, reason);
  const s = ref.trim();
  if (s === "") throw bad("is empty");
  if (/\s/.test(s)) throw bad("contains white space");
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s))
    throw bad("has a URL scheme; write host/path:tag without docker:// or https://");

  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest))
      throw bad(`digest "${digest}" is not sha256: followed by 64 lower-case hex digits`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag))
      throw bad(`tag "${tag}" is not valid (letters, digits, _ . -, at most 128, not starting with . or -)`);
  }
  if (rest === "") throw bad("has no repository name");

  const slash = rest.indexOf("/");
  let host = DOCKER_HUB;
  let path = rest;
  if (slash >= 0 && looksLikeHost(rest.slice(0, slash))) {
    host = rest.slice(0, slash);
    path = rest.slice(slash + 1);
    checkHost(host, bad);
    host = host.toLowerCase();
    if (host === "index.docker.io") host = DOCKER_HUB;
  } else if (/^[a-f0-9]{64}$/.test(rest)) {
    throw bad("is a 64-digit hex id, not a repository name (use NAME@sha256:... to pin a digest)");
  }
  if (host === DOCKER_HUB && !path.includes("/")) path = `library/${path}`;
  if (path === "") throw bad("has no repository path after the host");
  for (const c of path.split("/")) {
    if (c !== c.toLowerCase()) throw bad("repository name must be lower case");
    if (!COMPONENT.test(c))
      throw bad(
        `repository path component "${c}" is not valid (lower-case letters, digits, and . _ __ - between them)`,
      );
  }
  if (host.length + 1 + path.length > NAME_MAX) throw bad(`name is longer than ${NAME_MAX} characters`);
  if (tag === undefined && digest === undefined) tag = "latest";
  const out: ImageReference = { input: ref, host, path };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

function checkHost(host: string, bad: (reason: string) => ReferenceError): void {
  if (host.startsWith("[")) throw bad("IPv6 registry addresses are not supported; use a host name");
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(host);
  if (!m || !m[1].split(".").every((l) => DOMAIN_LABEL.test(l)))
    throw bad(`registry host "${host}" is not a host name with an optional :port`);
  if (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535))
    throw bad(`registry port ${m[2]} is out of range`);
}

/** `host/path[:tag][@digest]`: the fully qualified form, as containerd names images. */
export function canonicalReference(r: ImageReference): string {
  return `${r.host}/${r.path}${r.tag !== undefined ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
}

/** The directory (and first repository-name component) that holds `host`'s images. */
export function hostDir(host: string): string {
  return host.toLowerCase().replace(/:(\d+)$/, "_$1");
}

/** The repository name the registry serves an image under: `<hostDir>/<path>`. */
export function servedRepository(r: Pick<ImageReference, "host" | "path">): string {
  return `${hostDir(r.host)}/${r.path}`;
}

/**
 * The upstream host a served repository name starts with (the inverse of
 * {@link servedRepository}), or undefined when its first component does not
 * look like a host — a tree that is not host-prefixed.
 */
export function hostOfRepository(repository: string): string | undefined {
  const slash = repository.indexOf("/");
  if (slash < 0) return undefined;
  const first = repository.slice(0, slash);
  const m = /^(.*?)(?:_(\d{1,5}))?$/.exec(first)!;
  const name = m[1];
  if (!looksLikeHost(name) || !name.split(".").every((l) => DOMAIN_LABEL.test(l))) return undefined;
  return m[2] !== undefined ? `${name}:${m[2]}` : name;
}
