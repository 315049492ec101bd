/**
 * Side by side with the reference: Debian's `docker-registry` (distribution
 * 2.8) holding the same fixtures (pushed with `skopeo copy --all
 * --preserve-digests`, so manifests keep their bytes and digests), and our
 * registry serving the images tree. The same requests go to both; status,
 * Content-Type, Docker-Content-Digest, Content-Length, the API-version header,
 * Location/Link where they matter, and bodies where they must match are
 * compared.
 *
 * Every difference we mean to have is listed in INTENDED with a one-line
 * reason. Any other difference fails the test, and so does an INTENDED entry
 * that no longer matches anything (so the list stays honest).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import type { FixtureImage } from "../fixtures/build";
import { pushFixture } from "../support/skopeo";
import {
  ABSENT_DIGEST,
  ACCEPT_ALL_MANIFESTS,
  buildFixtures,
  errorCodes,
  once,
  rawRequest,
  startReference,
  startRegistry,
  stopAll,
  tools,
  type RawResponse,
} from "./harness";

const env = once(async () => {
  const fx = await buildFixtures();
  const [reg, ref] = await Promise.all([startRegistry(fx.root), startReference()]);
  // Push every fixture from the tree itself (not through our registry), so the
  // reference does not inherit our mistakes.
  for (const img of fx.images) pushFixture(img, ref.host);
  return { fx, reg, ref };
});
after(stopAll);

/** How to compare the bodies of one probe. */
type BodyKind =
  | "bytes" // must be identical
  | "tags" // {name, tags}: same name, same set of tags
  | "catalog" // {repositories}: same list
  | "error" // JSON errors: same codes (wording may differ)
  | "none"; // HEAD, or a body nobody reads

interface Probe {
  id: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  kind: BodyKind;
  /** What we must answer, whatever the reference does: the tree's bytes, digest and media type. */
  expect?: Expected;
}

interface Expected {
  bytes: Buffer;
  digest: string;
  contentType: string;
}

/** A difference between the two answers to one probe. */
interface Diff {
  probe: Probe;
  field: string;
  ours: string;
  theirs: string;
  /** The two whole answers, for rules that need more than the field. */
  o: RawResponse;
  t: RawResponse;
}

interface Intended {
  /** Which probes (by id). */
  probe: RegExp;
  /** Which compared field(s). */
  field: RegExp;
  /** Optional: only when the two values look like this. */
  when?: (d: Diff) => boolean;
  reason: string;
}

const isJson = (ct: string) => /^application\/json\b/.test(ct);

/**
 * The differences we mean to have. Keep each reason to one line: it is what a
 * reader of a failing run needs to decide whether a new difference is a bug.
 */
const INTENDED: Intended[] = [
  // --- Wording and formatting, not behaviour.
  {
    probe: /./,
    field: /^content-type$/,
    when: (d) => isJson(d.ours) && isJson(d.theirs),
    reason: "JSON media type: Go's registry appends '; charset=utf-8', the parameter is optional",
  },
  {
    probe: /./,
    field: /^error-message$/,
    reason: "error message/detail wording is free text; clients act on the code",
  },
  {
    probe: /./,
    field: /^content-length$/,
    when: (d) =>
      (bodyKind(d.o) === "json-error" && bodyKind(d.t) === "json-error") ||
      (d.probe.method === "HEAD" &&
        d.o.status >= 400 &&
        d.o.status === d.t.status &&
        isJson(d.o.headers["content-type"] ?? "") &&
        isJson(d.t.headers["content-type"] ?? "")),
    reason: "error bodies (also the ones a HEAD does not send) differ in wording/detail, so their lengths do",
  },
  {
    probe: /^(tags|catalog|pagination last)/,
    field: /^content-length$/,
    when: (d) => d.t.body.at(-1) === 0x0a && d.o.body.length === d.t.body.length - 1,
    reason: "Go's JSON encoder ends the body with a newline; ours has none",
  },
  {
    probe: /^base GET \/v2 \(redirect\)$/,
    field: /^(content-type|content-length)$/,
    reason:
      "the 301's body is each server's own little HTML page; clients only follow Location (which matches)",
  },
  // --- No content negotiation (plain nginx serves the stored manifest).
  {
    probe: /^(accept-less|single-manifest Accept) /,
    field: /^(status|content-type|docker-content-digest|content-length|body|body-kind)$/,
    reason:
      "we always serve the stored manifest; distribution 2.8 down-converts to schema1 or picks a child for old clients, and 404s OCI content they do not Accept",
  },
  // --- Where the spec (or DESIGN.md) asks for more than distribution 2.8 does.
  {
    probe: /^blob HEAD of a manifest digest$/,
    field: /^(status|content-type|docker-content-digest|content-length)$/,
    reason:
      "a manifest is a content-addressed blob too (clients such as oras HEAD it under /blobs/); 2.8 keeps them apart",
  },
  {
    probe: /^range bytes=\d+- big layer$/,
    field: /^(content-type|content-length|body-kind)$/,
    when: (d) => d.o.status === 416 && d.t.status === 416,
    reason:
      "416 body: we answer a JSON error; 2.8 sends text/plain with the whole blob's Content-Length (its bug)",
  },
  {
    probe: /^tags /,
    field: /^tags \(order\)$/,
    reason: "the spec wants tags in lexical order (ours); distribution 2.8 lists them in storage order",
  },
  {
    probe: /^(tags page |pagination last past the end$)/,
    field: /^(content-length|tags \(as a set\)|tags \(order\)|link)$/,
    reason:
      "tags/list honours n and last (and links the next page) as the spec says; distribution 2.8 ignores both for tags",
  },
  {
    probe: /^catalog page /,
    field: /^link$/,
    reason:
      "the same next page, but ours writes the Link query as the spec does (?n=N&last=X); 2.8 writes ?last=X&n=N",
  },
  {
    probe: /^unknown repo (manifest|blob)$/,
    field: /^error-code$/,
    reason:
      "we answer NAME_UNKNOWN when the repository does not exist (DESIGN.md); 2.8 says MANIFEST_UNKNOWN / BLOB_UNKNOWN",
  },
  {
    probe: /^bad digest manifest short$/,
    field: /^(status|error-code)$/,
    reason: "a malformed digest is the client's error: 400 DIGEST_INVALID; 2.8 answers 500 UNKNOWN (its bug)",
  },
  {
    probe: /^referrers$/,
    field: /^(status|content-type|content-length)$/,
    reason:
      "the referrers API (OCI distribution 1.1) is served from subject fields; 2.8 predates it (404 text)",
  },
  {
    probe: /^pagination n=abc$/,
    field: /^(status|content-length|body-kind)$/,
    reason:
      "a non-numeric n is 400 PAGINATION_NUMBER_INVALID (a spec error code); 2.8 ignores it and lists everything",
  },
  {
    probe: /^conditional GET (manifest|blob) If-None-Match$/,
    field: /^(content-type|content-length|docker-content-digest)$/,
    reason:
      "both answer 304; ours repeats Content-Type and Docker-Content-Digest (RFC 9110 allows representation headers on 304) and nginx's `return 304` adds Content-Length: 0",
  },
  // --- Read-only.
  {
    probe: /^write OPTIONS /,
    field: /^(status|content-type|content-length)$/,
    reason:
      "only GET and HEAD are served: OPTIONS gets 405 UNSUPPORTED with Allow: GET, HEAD; 2.8 answers 200 {}",
  },
  {
    probe: /^write (PUT|POST|PATCH) /,
    field: /^(status|content-type|docker-content-digest|content-length|body-kind|error-code)$/,
    reason:
      "read-only: every write is 405 UNSUPPORTED with Allow: GET, HEAD; the reference accepts pushes (201/202, 404 for an unknown upload)",
  },
];

/** Headers compared on every probe. */
const HEADERS = [
  "content-type",
  "docker-content-digest",
  "content-length",
  "docker-distribution-api-version",
];

function probes(images: FixtureImage[]): Probe[] {
  const out: Probe[] = [
    { id: "base GET /v2/", method: "GET", path: "/v2/", kind: "bytes" },
    { id: "base HEAD /v2/", method: "HEAD", path: "/v2/", kind: "none" },
    { id: "base GET /v2 (redirect)", method: "GET", path: "/v2", kind: "none" },
  ];
  const accept = { accept: ACCEPT_ALL_MANIFESTS };
  const seenBlob = new Set<string>();
  for (const img of images) {
    const m = `/v2/${img.repo}/manifests`;
    const man: Expected = {
      bytes: fs.readFileSync(img.manifestPath),
      digest: img.digest,
      contentType: img.mediaType,
    };
    const k = `${img.reference} (${img.kind})`;
    out.push(
      {
        id: `manifest GET tag ${k}`,
        method: "GET",
        path: `${m}/${img.tag}`,
        headers: accept,
        kind: "bytes",
        expect: man,
      },
      {
        id: `manifest HEAD tag ${k}`,
        method: "HEAD",
        path: `${m}/${img.tag}`,
        headers: accept,
        kind: "none",
        expect: man,
      },
      {
        id: `manifest GET digest ${k}`,
        method: "GET",
        path: `${m}/${img.digest}`,
        headers: accept,
        kind: "bytes",
        expect: man,
      },
      {
        id: `manifest HEAD digest ${k}`,
        method: "HEAD",
        path: `${m}/${img.digest}`,
        headers: accept,
        kind: "none",
        expect: man,
      },
      {
        id: `manifest GET tag, Accept: own type only ${k}`,
        method: "GET",
        path: `${m}/${img.tag}`,
        headers: { accept: img.mediaType },
        kind: "bytes",
        expect: man,
      },
      { id: `accept-less GET tag ${k}`, method: "GET", path: `${m}/${img.tag}`, kind: "bytes", expect: man },
      {
        id: `manifest GET tag, several Accept headers ${k}`,
        method: "GET",
        path: `${m}/${img.tag}`,
        // Two header lines, as containerd and Docker send them (nginx 1.22 sees only the first).
        headers: {
          accept:
            "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json",
          Accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json",
        },
        kind: "bytes",
        expect: man,
      },
    );
    if (img.children.length) {
      out.push({
        id: `single-manifest Accept GET tag ${k}`,
        method: "GET",
        path: `${m}/${img.tag}`,
        headers: {
          accept:
            "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json",
        },
        kind: "bytes",
        expect: man,
      });
    }
    for (const c of img.children) {
      out.push({
        id: `manifest GET child ${c.platform} ${k}`,
        method: "GET",
        path: `${m}/${c.digest}`,
        headers: accept,
        kind: "bytes",
        expect: { bytes: fs.readFileSync(c.manifestPath), digest: c.digest, contentType: c.mediaType },
      });
    }
    for (const b of img.blobs) {
      const key = `${img.repo}@${b.digest}`;
      if (seenBlob.has(key)) continue;
      seenBlob.add(key);
      const p = `/v2/${img.repo}/blobs/${b.digest}`;
      const hex = b.digest.slice("sha256:".length);
      const file =
        img.source === "dir" ? path.join(img.path, hex) : path.join(img.path, "blobs", "sha256", hex);
      const blob: Expected = {
        bytes: fs.readFileSync(file),
        digest: b.digest,
        contentType: "application/octet-stream",
      };
      out.push(
        {
          id: `blob GET ${img.repo} ${b.mediaType} ${b.digest}`,
          method: "GET",
          path: p,
          kind: "bytes",
          expect: blob,
        },
        {
          id: `blob HEAD ${img.repo} ${b.mediaType} ${b.digest}`,
          method: "HEAD",
          path: p,
          kind: "none",
          expect: blob,
        },
      );
    }
  }
  const big = images.find((i) => i.features.includes("large-layer"))!;
  const layer = big.layers.reduce((a, b) => (b.size > a.size ? b : a));
  const bp = `/v2/${big.repo}/blobs/${layer.digest}`;
  for (const range of [
    "bytes=0-99",
    "bytes=100-",
    "bytes=-10",
    `bytes=1000-${layer.size + 5000}`,
    `bytes=${layer.size}-`,
  ]) {
    out.push({ id: `range ${range} big layer`, method: "GET", path: bp, headers: { range }, kind: "bytes" });
  }
  const busybox = images.find((i) => i.reference === "busybox:1.36")!;
  out.push(
    {
      id: "blob HEAD of a manifest digest",
      method: "HEAD",
      path: `/v2/busybox/blobs/${busybox.digest}`,
      kind: "none",
    },
    {
      id: "blob GET of another repository's blob",
      method: "GET",
      path: `/v2/busybox/blobs/${layer.digest}`,
      kind: "error",
    },
  );
  const repos = [...new Set(images.map((i) => i.repo))];
  for (const r of repos)
    out.push({ id: `tags ${r}`, method: "GET", path: `/v2/${r}/tags/list`, kind: "tags" });
  out.push(
    { id: "tags page n=1", method: "GET", path: "/v2/shared/base/tags/list?n=1", kind: "tags" },
    { id: "catalog", method: "GET", path: "/v2/_catalog", kind: "catalog" },
    { id: "catalog page n=2", method: "GET", path: "/v2/_catalog?n=2", kind: "catalog" },
    {
      id: "catalog page n=2&last=busybox",
      method: "GET",
      path: "/v2/_catalog?n=2&last=busybox",
      kind: "catalog",
    },
    { id: "catalog n=0", method: "GET", path: "/v2/_catalog?n=0", kind: "catalog" },
    { id: "pagination n=abc", method: "GET", path: "/v2/_catalog?n=abc", kind: "error" },
    { id: "pagination last not in the list", method: "GET", path: "/v2/_catalog?last=c", kind: "catalog" },
    {
      id: "pagination last past the end",
      method: "GET",
      path: "/v2/busybox/tags/list?last=zzz",
      kind: "tags",
    },
    {
      id: "conditional GET manifest If-None-Match",
      method: "GET",
      path: `/v2/busybox/manifests/${busybox.digest}`,
      headers: { ...accept, "if-none-match": `"${busybox.digest}"` },
      kind: "none",
    },
    {
      id: "conditional GET blob If-None-Match",
      method: "GET",
      path: `/v2/busybox/blobs/${busybox.layers[0].digest}`,
      headers: { "if-none-match": `"${busybox.layers[0].digest}"` },
      kind: "none",
    },
    { id: "write OPTIONS /v2/", method: "OPTIONS", path: "/v2/", kind: "none" },
    { id: "unknown repo manifest", method: "GET", path: "/v2/no/such/manifests/latest", kind: "error" },
    { id: "unknown repo tags", method: "GET", path: "/v2/no/such/tags/list", kind: "error" },
    { id: "unknown repo blob", method: "GET", path: `/v2/no/such/blobs/${ABSENT_DIGEST}`, kind: "error" },
    { id: "unknown tag", method: "GET", path: "/v2/busybox/manifests/9.99", headers: accept, kind: "error" },
    {
      id: "unknown tag HEAD",
      method: "HEAD",
      path: "/v2/busybox/manifests/9.99",
      headers: accept,
      kind: "none",
    },
    { id: "unknown digest", method: "GET", path: `/v2/busybox/manifests/${ABSENT_DIGEST}`, kind: "error" },
    { id: "unknown blob", method: "GET", path: `/v2/busybox/blobs/${ABSENT_DIGEST}`, kind: "error" },
    { id: "unknown blob HEAD", method: "HEAD", path: `/v2/busybox/blobs/${ABSENT_DIGEST}`, kind: "none" },
    { id: "bad digest blob short", method: "GET", path: "/v2/busybox/blobs/sha256:1234", kind: "error" },
    {
      id: "bad digest blob upper-case",
      method: "GET",
      path: `/v2/busybox/blobs/sha256:${"A".repeat(64)}`,
      kind: "error",
    },
    {
      id: "bad digest manifest short",
      method: "GET",
      path: "/v2/busybox/manifests/sha256:1234",
      kind: "error",
    },
    {
      id: "referrers",
      method: "GET",
      path: `/v2/oci/app/referrers/${images.find((i) => i.reference === "oci/app:1.0")!.digest}`,
      kind: "none",
    },
    {
      id: "write PUT manifest",
      method: "PUT",
      path: "/v2/busybox/manifests/pushed",
      headers: { "content-type": busybox.mediaType },
      body: fs.readFileSync(busybox.manifestPath),
      kind: "error",
    },
    {
      id: "write DELETE manifest",
      method: "DELETE",
      path: `/v2/busybox/manifests/${busybox.digest}`,
      kind: "error",
    },
    {
      id: "write DELETE blob",
      method: "DELETE",
      path: `/v2/busybox/blobs/${busybox.layers[0].digest}`,
      kind: "error",
    },
    { id: "write PATCH upload", method: "PATCH", path: "/v2/busybox/blobs/uploads/0b1c2d3e", kind: "error" },
    // Last: on the reference this starts an upload session.
    { id: "write POST upload", method: "POST", path: "/v2/busybox/blobs/uploads/", kind: "error" },
  );
  return out;
}

function compare(p: Probe, ours: RawResponse, theirs: RawResponse): Diff[] {
  const diffs: Diff[] = [];
  const add = (field: string, o: unknown, t: unknown) => {
    const os = typeof o === "string" ? o : JSON.stringify(o);
    const ts = typeof t === "string" ? t : JSON.stringify(t);
    if (os !== ts)
      diffs.push({ probe: p, field, ours: os ?? "(none)", theirs: ts ?? "(none)", o: ours, t: theirs });
  };
  add("status", String(ours.status), String(theirs.status));
  for (const h of HEADERS) add(h, ours.headers[h] ?? "(none)", theirs.headers[h] ?? "(none)");
  if ([206, 416].includes(ours.status) || [206, 416].includes(theirs.status)) {
    add(
      "content-range",
      ours.headers["content-range"] ?? "(none)",
      theirs.headers["content-range"] ?? "(none)",
    );
  }
  if (ours.status >= 300 && ours.status < 400) {
    add(
      "location",
      new URL(ours.headers.location ?? "", "http://x").pathname,
      new URL(theirs.headers.location ?? "", "http://x").pathname,
    );
  }
  if (p.kind === "bytes" && ours.status < 300 && theirs.status < 300) {
    if (!ours.body.equals(theirs.body))
      add("body", `${ours.body.length} bytes`, `${theirs.body.length} bytes (different)`);
    add(
      "content-range",
      ours.headers["content-range"] ?? "(none)",
      theirs.headers["content-range"] ?? "(none)",
    );
  } else if (p.kind === "bytes" || p.kind === "error") {
    add("body-kind", bodyKind(ours), bodyKind(theirs));
    if (bodyKind(ours) === "json-error" && bodyKind(theirs) === "json-error") {
      add("error-code", errorCodes(ours.body), errorCodes(theirs.body));
      if (!ours.body.equals(theirs.body)) add("error-message", ours.body.toString(), theirs.body.toString());
    }
  } else if (p.kind === "tags") {
    const o = safeJson(ours.body) as { name?: string; tags?: string[] } | undefined;
    const t = safeJson(theirs.body) as { name?: string; tags?: string[] } | undefined;
    add("name", o?.name, t?.name);
    add("tags (as a set)", [...(o?.tags ?? [])].sort(), [...(t?.tags ?? [])].sort());
    add("tags (order)", o?.tags, t?.tags);
    add("link", ours.headers.link ?? "(none)", theirs.headers.link ?? "(none)");
  } else if (p.kind === "catalog") {
    add(
      "repositories",
      (safeJson(ours.body) as { repositories?: string[] })?.repositories,
      (safeJson(theirs.body) as { repositories?: string[] })?.repositories,
    );
    add("link", ours.headers.link ?? "(none)", theirs.headers.link ?? "(none)");
  }
  return diffs;
}

/** Our answer against the images tree (independent of the reference). */
function checkExpected(p: Probe, ours: RawResponse, e: Expected): string[] {
  const bad: string[] = [];
  const where = `${p.id} [${p.method} ${p.path}] vs the images tree`;
  if (ours.status !== 200) bad.push(`${where}: status ${ours.status}`);
  if (ours.headers["docker-content-digest"] !== e.digest) {
    bad.push(`${where}: Docker-Content-Digest ${ours.headers["docker-content-digest"]}, want ${e.digest}`);
  }
  if (ours.headers["content-type"] !== e.contentType) {
    bad.push(`${where}: Content-Type ${ours.headers["content-type"]}, want ${e.contentType}`);
  }
  if (ours.headers["content-length"] !== String(e.bytes.length)) {
    bad.push(`${where}: Content-Length ${ours.headers["content-length"]}, want ${e.bytes.length}`);
  }
  if (p.method === "GET" && !ours.body.equals(e.bytes)) bad.push(`${where}: body is not the file's bytes`);
  if (p.method === "HEAD" && ours.body.length) bad.push(`${where}: HEAD sent a body`);
  return bad;
}

function bodyKind(r: RawResponse): string {
  if (!r.body.length) return "empty";
  try {
    errorCodes(r.body);
    return "json-error";
  } catch {
    return safeJson(r.body) !== undefined
      ? "json"
      : `text (${(r.headers["content-type"] ?? "?").split(";")[0]})`;
  }
}

function safeJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString("utf8"));
  } catch {
    return undefined;
  }
}

describe("reference registry comparison", () => {
  test("walking the Link headers gives the same complete lists from both", async (t) => {
    if (!tools(t, "nginx", "skopeo", "docker-registry")) return;
    const { fx, reg, ref } = await env();
    const repos = [...new Set(fx.images.map((i) => i.repo))].sort();
    for (const n of [1, 2, 3, 10, 1000]) {
      const ours = await walk(reg.port, `/v2/_catalog?n=${n}`, "repositories");
      const theirs = await walk(ref.port, `/v2/_catalog?n=${n}`, "repositories");
      assert.deepEqual(ours.entries, repos, `our _catalog walked with n=${n}`);
      assert.deepEqual(theirs.entries, repos, `reference _catalog walked with n=${n}`);
      for (const [i, page] of ours.pages.entries()) {
        const last = i === ours.pages.length - 1;
        assert.ok(
          last ? page.length <= n : page.length === n,
          `our page ${i} of n=${n} has ${page.length} entries`,
        );
      }
      assert.deepEqual(ours.pages, theirs.pages, `_catalog with n=${n}: the same pages as the reference`);
    }
    for (const repo of repos) {
      const tags = fx.images.filter((i) => i.repo === repo).map((i) => i.tag);
      for (const n of [1, 2]) {
        const ours = await walk(reg.port, `/v2/${repo}/tags/list?n=${n}`, "tags");
        assert.deepEqual(
          ours.entries,
          [...tags].sort(),
          `our ${repo} tags walked with n=${n}, in lexical order`,
        );
        for (const [i, page] of ours.pages.slice(0, -1).entries())
          assert.equal(page.length, n, `our ${repo} tags page ${i} with n=${n}: exactly n`);
        // 2.8 ignores n for tags: one page with everything.
        const theirs = await walk(ref.port, `/v2/${repo}/tags/list?n=${n}`, "tags");
        assert.deepEqual([...theirs.entries].sort(), [...tags].sort(), `reference ${repo} tags`);
      }
    }
  });

  test("referrers: we list the artifact whose subject is the image (2.8 has no such API)", async (t) => {
    if (!tools(t, "nginx", "skopeo", "docker-registry")) return;
    const { fx, reg } = await env();
    const artifact = fx.images.find((i) => i.kind === "oci-artifact")!;
    const subject = fx.images.find((i) => i.digest === artifact.subject?.digest)!;
    assert.ok(subject, "the artifact's subject is a fixture");
    const r = await rawRequest(reg.port, "GET", `/v2/${subject.repo}/referrers/${subject.digest}`);
    assert.equal(r.status, 200);
    assert.match(r.headers["content-type"] ?? "", /^application\/vnd\.oci\.image\.index\.v1\+json/);
    const doc = JSON.parse(r.body.toString()) as {
      manifests: { digest: string; artifactType?: string; size: number }[];
    };
    assert.deepEqual(
      doc.manifests.map((m) => [m.digest, m.artifactType, m.size]),
      [[artifact.digest, artifact.artifactType, artifact.size]],
    );
  });

  // Last: its write probes change the reference's content (it accepts pushes).
  test("the same requests get the same answers from docker-registry 2.8 and from us, except as recorded", async (t) => {
    if (!tools(t, "nginx", "skopeo", "docker-registry")) return;
    const { fx, reg, ref } = await env();

    // The reference really holds the fixtures with their digests.
    for (const img of fx.images) {
      const r = await rawRequest(ref.port, "HEAD", `/v2/${img.repo}/manifests/${img.tag}`, {
        accept: ACCEPT_ALL_MANIFESTS,
      });
      assert.equal(
        r.headers["docker-content-digest"],
        img.digest,
        `reference kept ${img.reference}'s digest`,
      );
    }

    const unexpected: string[] = [];
    const intended = new Map<Intended, string[]>();
    let checked = 0;
    const used = new Set<Intended>();
    const all = probes(fx.images);
    for (const p of all) {
      const [ours, theirs] = [
        await rawRequest(reg.port, p.method, p.path, p.headers, p.body),
        await rawRequest(ref.port, p.method, p.path, p.headers, p.body),
      ];
      if (p.expect) {
        checked++;
        unexpected.push(...checkExpected(p, ours, p.expect));
      }
      for (const d of compare(p, ours, theirs)) {
        const rule = INTENDED.find(
          (r) => r.probe.test(p.id) && r.field.test(d.field) && (!r.when || r.when(d)),
        );
        const line = `${p.id} [${p.method} ${p.path}] ${d.field}: ours=${clip(d.ours)} reference=${clip(d.theirs)}`;
        if (rule) {
          used.add(rule);
          intended.set(rule, [...(intended.get(rule) ?? []), line]);
        } else unexpected.push(line);
      }
    }
    const count = [...intended.values()].reduce((a, l) => a + l.length, 0);
    t.diagnostic(
      `${all.length} requests compared (${checked} of ours also against the tree's bytes); ${count} intended differences:`,
    );
    for (const [rule, lines] of intended) {
      t.diagnostic(`intended x${lines.length}: ${rule.reason}; e.g. ${lines[0]}`);
    }
    const stale = INTENDED.filter((r) => !used.has(r)).map((r) => `${r.probe} ${r.field}: ${r.reason}`);
    assert.deepEqual(
      unexpected,
      [],
      `differences from the reference registry that are not recorded as intended:\n${unexpected.join("\n")}`,
    );
    assert.deepEqual(
      stale,
      [],
      `recorded differences that no longer occur (remove them):\n${stale.join("\n")}`,
    );
  });
});

/** Follows `Link: <...>; rel="next"` from `start`; returns every page's entries and all of them. */
async function walk(
  port: number,
  start: string,
  key: "repositories" | "tags",
): Promise<{ pages: string[][]; entries: string[] }> {
  const pages: string[][] = [];
  let next: string | undefined = start;
  while (next) {
    assert.ok(pages.length < 200, `more than 200 pages from ${start}`);
    const r = await rawRequest(port, "GET", next);
    assert.equal(r.status, 200, `GET ${next}: ${r.body.toString()}`);
    const doc = JSON.parse(r.body.toString()) as Record<string, string[] | null>;
    pages.push(doc[key] ?? []);
    const link = /<([^>]+)>;\s*rel="?next"?/.exec(r.headers.link ?? "");
    next = link
      ? new URL(link[1], "http://127.0.0.1").pathname + new URL(link[1], "http://127.0.0.1").search
      : undefined;
  }
  return { pages, entries: pages.flat() };
}

function clip(s: string): string {
  const one = s.replace(/\s+/g, " ");
  return one.length > 160 ? one.slice(0, 157) + "..." : one;
}
