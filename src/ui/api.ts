/**
 * The page's reads of the registry's own API, same origin only: the catalog
 * and tag lists page by page (`n`, `last`, the `Link` header), manifests and
 * config blobs, referrers. Objects named by digest never change, so each is
 * fetched once per page load; at most a few requests are in flight at a time.
 */
import { cosignTag, nextLink, type Descriptor, type ManifestDoc, type Provenance } from "./logic";

/** Requests in flight at once: about what a browser opens to one HTTP/1.1 host. */
const PARALLEL = 6;
/** Entries per request when a whole list is read (the catalog, the cosign tags). */
export const LIST_CHUNK = 1000;

const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** A non-2xx answer, with the status and the registry's error code when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(`${url}: HTTP ${status}${code ? ` ${code}` : ""}`);
  }
}

let active = 0;
const waiting: (() => void)[] = [];

/** Runs `fn` when fewer than PARALLEL requests are in flight. */
async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (active >= PARALLEL) await new Promise<void>((resolve) => waiting.push(resolve));
  active++;
  try {
    return await fn();
  } finally {
    active--;
    waiting.shift()?.();
  }
}

async function get(url: string, accept?: string): Promise<{ bytes: Uint8Array; headers: Headers }> {
  return limited(async () => {
    const r = await fetch(url, {
      headers: accept ? { Accept: accept } : {},
      credentials: "same-origin",
      redirect: "error",
    });
    const bytes = new Uint8Array(await r.arrayBuffer());
    if (!r.ok) {
      let code: string | undefined;
      try {
        code = (JSON.parse(new TextDecoder().decode(bytes)) as { errors?: { code?: string }[] }).errors?.[0]
          ?.code;
      } catch {
        code = undefined;
      }
      throw new ApiError(url, r.status, code);
    }
    return { bytes, headers: r.headers };
  });
}

const json = <T>(bytes: Uint8Array): T => JSON.parse(new TextDecoder().decode(bytes)) as T;

const once = new Map<string, Promise<unknown>>();
/** Objects by digest are immutable: one fetch each. */
function cached<T>(key: string, fn: () => Promise<T>): Promise<T> {
  let p = once.get(key) as Promise<T> | undefined;
  if (!p) {
    p = fn();
    once.set(key, p);
    p.catch(() => once.delete(key));
  }
  return p;
}

/** One page of a list endpoint: its entries and the next page's URL, if more remain. */
async function listPage<T>(url: string): Promise<{ body: T; next?: string }> {
  const r = await get(url);
  return { body: json<T>(r.bytes), next: nextLink(r.headers.get("Link")) };
}

/** Every repository, page by page (`onPage` sees the list grow). */
export async function catalog(onPage: (names: string[], done: boolean) => void): Promise<string[]> {
  const names: string[] = [];
  let url: string | undefined = `/v2/_catalog?n=${LIST_CHUNK}`;
  while (url) {
    const p: { body: { repositories?: string[] }; next?: string } = await listPage(url);
    names.push(...(p.body.repositories ?? []));
    url = p.next;
    onPage(names, url === undefined);
  }
  return names;
}

const tagsUrl = (name: string, n: number, last?: string) =>
  `/v2/${name}/tags/list?n=${n}${last !== undefined ? `&last=${encodeURIComponent(last)}` : ""}`;

/** Up to `n` tags of `name` after `last` (all of them from the start when undefined); `more` when some remain. */
export async function tags(
  name: string,
  n: number,
  last?: string,
): Promise<{ tags: string[]; more: boolean }> {
  const p = await listPage<{ tags?: string[] }>(tagsUrl(name, n, last));
  return { tags: p.body.tags ?? [], more: p.next !== undefined };
}

/**
 * cosign's tags of `name` by the digest they refer to. They all start with
 * "sha256-", so they are one run of the sorted tag list: read from just
 * before it to its end, whatever the repository's size.
 */
export function cosignTags(name: string): Promise<Map<string, { tag: string; kind: Provenance }[]>> {
  return cached(`cosign ${name}`, async () => {
    const out = new Map<string, { tag: string; kind: Provenance }[]>();
    let last = "sha256-";
    for (;;) {
      const p = await tags(name, LIST_CHUNK, last);
      for (const t of p.tags) {
        const c = cosignTag(t);
        if (c) out.set(c.digest, [...(out.get(c.digest) ?? []), { tag: t, kind: c.kind }]);
      }
      const end = p.tags[p.tags.length - 1];
      if (!p.more || end === undefined || !end.startsWith("sha256-")) return out;
      last = end;
    }
  });
}

export interface Manifest {
  digest: string;
  mediaType: string;
  /** Bytes as served. */
  size: number;
  doc: ManifestDoc;
}

async function fetchManifest(name: string, ref: string): Promise<Manifest> {
  const r = await get(`/v2/${name}/manifests/${ref}`, MANIFEST_TYPES);
  const doc = json<ManifestDoc>(r.bytes);
  return {
    digest: r.headers.get("Docker-Content-Digest") ?? (ref.startsWith("sha256:") ? ref : ""),
    mediaType: (r.headers.get("Content-Type") ?? doc.mediaType ?? "").split(";")[0],
    size: r.bytes.length,
    doc,
  };
}

/** A manifest by tag (fetched each time: tags move) or by digest (once). */
export function manifest(name: string, ref: string): Promise<Manifest> {
  return ref.startsWith("sha256:")
    ? cached(`manifest ${name}@${ref}`, () => fetchManifest(name, ref))
    : fetchManifest(name, ref);
}

/** An image's config blob as JSON (created time, labels, platform). */
export interface ImageConfig {
  created?: string;
  os?: string;
  architecture?: string;
  variant?: string;
  config?: { Labels?: Record<string, string> | null };
}

export function config(name: string, digest: string): Promise<ImageConfig> {
  return cached(`blob ${name}@${digest}`, async () =>
    json<ImageConfig>((await get(`/v2/${name}/blobs/${digest}`)).bytes),
  );
}

/** The descriptors of the manifests whose subject is `digest` (the referrers API). */
export function referrers(name: string, digest: string): Promise<Descriptor[]> {
  return cached(`referrers ${name}@${digest}`, async () => {
    const r = await get(`/v2/${name}/referrers/${digest}`, "application/vnd.oci.image.index.v1+json");
    return json<{ manifests?: Descriptor[] }>(r.bytes).manifests ?? [];
  });
}
