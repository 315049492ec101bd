/**
 * What our registry refuses, and how: unknown names, tags, digests and blobs
 * get the spec's JSON errors; malformed digests are 400 DIGEST_INVALID; every
 * write is 405 UNSUPPORTED with `Allow: GET, HEAD` (and `skopeo copy` to the
 * registry fails saying so); crafted URLs, sent byte for byte, never return a
 * file, whether it lies outside the images dir or inside it but outside the
 * inventory.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import {
  ABSENT_DIGEST,
  ACCEPT_ALL_MANIFESTS,
  errorCodes,
  logMark,
  rawRequest,
  type RawResponse,
  request,
  runClientAny,
  servedFixtures,
  stopAll,
  tools,
  waitLog,
} from "./harness";
import { assertError } from "../support/http";

const env = servedFixtures;
after(stopAll);

const API_VERSION = "registry/2.0";

describe("negative", () => {
  test("unknown repository, tag, digest and blob: 404 with the spec error code", async (t) => {
    if (!tools(t, "nginx", "skopeo")) return;
    const { fx, reg } = await env();
    const big = fx.images.find((i) => i.features.includes("large-layer"))!;
    const cases: [string, string, string[]][] = [
      ["unknown repository: manifest by tag", "/v2/does/not-exist/manifests/latest", ["NAME_UNKNOWN"]],
      [
        "unknown repository: manifest by digest",
        `/v2/does/not-exist/manifests/${ABSENT_DIGEST}`,
        ["NAME_UNKNOWN"],
      ],
      [
        "unknown repository: blob",
        `/v2/does/not-exist/blobs/${ABSENT_DIGEST}`,
        ["NAME_UNKNOWN", "BLOB_UNKNOWN"],
      ],
      ["unknown repository: tags/list", "/v2/does/not-exist/tags/list", ["NAME_UNKNOWN"]],
      ["a repository's parent is not a repository", "/v2/library/tags/list", ["NAME_UNKNOWN"]],
      ["unknown tag", "/v2/busybox/manifests/9.99", ["MANIFEST_UNKNOWN"]],
      ["unknown digest", `/v2/busybox/manifests/${ABSENT_DIGEST}`, ["MANIFEST_UNKNOWN"]],
      ["another repository's manifest digest", `/v2/busybox/manifests/${big.digest}`, ["MANIFEST_UNKNOWN"]],
      ["unknown blob", `/v2/busybox/blobs/${ABSENT_DIGEST}`, ["BLOB_UNKNOWN"]],
      ["unknown blob, nested name", `/v2/library/alpine/blobs/${ABSENT_DIGEST}`, ["BLOB_UNKNOWN"]],
    ];
    for (const [what, url, codes] of cases) {
      await t.test(`${what}: GET ${url}`, async () => {
        assertError(
          await request(reg.port, "GET", url, { accept: ACCEPT_ALL_MANIFESTS }),
          404,
          codes,
          `GET ${url}`,
        );
        const head = await request(reg.port, "HEAD", url, { accept: ACCEPT_ALL_MANIFESTS });
        assert.equal(head.status, 404, `HEAD ${url}`);
        assert.equal(
          head.headers["docker-distribution-api-version"],
          API_VERSION,
          `HEAD ${url}: API version`,
        );
        assert.equal(head.body.length, 0, `HEAD ${url}: no body`);
      });
    }
  });

  test("malformed digests: 400 DIGEST_INVALID", async (t) => {
    if (!tools(t, "nginx", "skopeo")) return;
    const { reg } = await env();
    const hex64 = "a".repeat(64);
    const bad = [
      "sha256:1234", // too short
      `sha256:${hex64}0`, // too long
      `sha256:${"g".repeat(64)}`, // not hex
      `sha256:${"A".repeat(64)}`, // upper case is not the canonical encoding
      `sha256:`, // empty
      `sha512:${hex64}`, // wrong length for sha512
    ];
    for (const d of bad) {
      for (const kind of ["blobs", "manifests"]) {
        await t.test(`GET /v2/busybox/${kind}/${d}`, async () => {
          const url = `/v2/busybox/${kind}/${d}`;
          assertError(await request(reg.port, "GET", url), 400, ["DIGEST_INVALID"], `GET ${url}`);
        });
      }
    }
    await t.test("a blob reference that is not a digest at all", async () => {
      assertError(
        await request(reg.port, "GET", "/v2/busybox/blobs/latest"),
        400,
        ["DIGEST_INVALID"],
        "blobs/latest",
      );
    });
  });

  test("every write: 405 UNSUPPORTED with Allow: GET, HEAD", async (t) => {
    if (!tools(t, "nginx", "skopeo")) return;
    const { fx, reg } = await env();
    const img = fx.images.find((i) => i.reference === "busybox:1.36")!;
    const blob = img.layers[0].digest;
    const writes: [string, string][] = [
      ["POST", "/v2/busybox/blobs/uploads/"],
      ["POST", `/v2/busybox/blobs/uploads/?mount=${blob}&from=library/alpine`],
      ["POST", "/v2/new/repo/blobs/uploads/"],
      ["PATCH", "/v2/busybox/blobs/uploads/0b1c2d3e"],
      ["PUT", `/v2/busybox/blobs/uploads/0b1c2d3e?digest=${blob}`],
      ["PUT", "/v2/busybox/manifests/1.36"],
      ["PUT", "/v2/busybox/manifests/new-tag"],
      ["PUT", "/v2/new/repo/manifests/latest"],
      ["DELETE", `/v2/busybox/manifests/${img.digest}`],
      ["DELETE", `/v2/busybox/blobs/${blob}`],
      ["DELETE", "/v2/busybox/manifests/1.36"],
      ["POST", "/v2/"],
    ];
    for (const [method, url] of writes) {
      await t.test(`${method} ${url}`, async () => {
        const res = await request(
          reg.port,
          method,
          url,
          { "content-type": "application/vnd.docker.distribution.manifest.v2+json" },
          method === "GET" ? undefined : fs.readFileSync(img.manifestPath),
        );
        assertError(res, 405, ["UNSUPPORTED"], `${method} ${url}`);
        assert.equal(res.headers["allow"], "GET, HEAD", `${method} ${url}: Allow`);
      });
    }
    // The manifest is still what it was.
    const after = await request(reg.port, "GET", "/v2/busybox/manifests/1.36", {
      accept: ACCEPT_ALL_MANIFESTS,
    });
    assert.equal(after.status, 200);
    assert.ok(after.body.equals(fs.readFileSync(img.manifestPath)));
  });

  test("skopeo copy TO the registry fails and says the registry does not allow it", async (t) => {
    if (!tools(t, "nginx", "skopeo")) return;
    const { fx, reg } = await env();
    const src = fx.images.find((i) => i.reference === "busybox:1.36")!;
    for (const dest of ["busybox:pushed", "brand/new:1"]) {
      await t.test(`dir:${src.reference} -> docker://${reg.host}/${dest}`, async () => {
        const mark = await logMark(reg);
        const r = runClientAny("skopeo", [
          "--insecure-policy",
          "copy",
          "--retry-times",
          "0",
          "--dest-tls-verify=false",
          `dir:${src.path}`,
          `docker://${reg.host}/${dest}`,
        ]);
        assert.notEqual(r.status, 0, `skopeo copy must fail:\n${r.stdout}\n${r.stderr}`);
        // What the user reads: the registry's "unsupported" error (405), not a timeout or a 404.
        assert.match(r.stderr, /unsupported|405|method not allowed/i, r.stderr);
        assert.doesNotMatch(r.stderr, /connection refused|timeout|404|not found/i, r.stderr);
        const logged = (await waitLog(reg, mark, /"status":405/)).join("\n");
        assert.match(
          logged,
          /"method":"(POST|PUT|PATCH)",.*"status":405,.*"request":"\/v2\//,
          `405 in the access log:\n${logged}`,
        );
      });
    }
    const after = await request(reg.port, "GET", "/v2/busybox/tags/list");
    assert.deepEqual((JSON.parse(after.body.toString()) as { tags: string[] }).tags, ["1.36"]);
  });

  test("crafted URLs sent raw never return a file", async (t) => {
    if (!tools(t, "nginx", "skopeo")) return;
    const { fx, reg } = await env();
    const busybox = fx.images.find((i) => i.reference === "busybox:1.36")!;
    const layout = fx.images.find((i) => i.source === "oci-layout")!;
    const layer = busybox.layers[0].digest.slice(7);
    // Files whose bytes must never come back from these URLs.
    const secrets = [
      "/etc/passwd",
      "/etc/hostname",
      busybox.manifestPath,
      path.join(busybox.path, "version"),
      path.join(layout.path, "index.json"),
      path.join(layout.path, "oci-layout"),
    ]
      .filter((f) => fs.existsSync(f))
      .map((f) => ({ f, bytes: fs.readFileSync(f) }));
    const probes = [
      "/v2/../../etc/passwd",
      "/v2/../../../../../../../../etc/passwd",
      "/v2/%2e%2e/%2e%2e/etc/passwd",
      "/v2/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
      "/v2/x/blobs/..%2f..%2fmanifest.json",
      "/v2/busybox/blobs/..%2f1.36%2fmanifest.json",
      "/v2/busybox/blobs/sha256:..%2f..%2f..%2fetc%2fpasswd",
      "/v2/busybox/manifests/..%2f..%2f..%2f..%2fetc%2fpasswd",
      "/v2/busybox/manifests/../1.36/manifest.json",
      "/v2/busybox/manifests/1.36/../../1.36/manifest.json",
      "//etc/passwd",
      "/etc/passwd",
      "/../../etc/passwd",
      "/v2/oci/app/manifests/1.0%00",
      "/v2/oci/app/manifests/1.0%00.json",
      "/v2/busybox/1.36/manifest.json",
      "/v2/busybox/1.36/version",
      `/v2/busybox/1.36/${layer}`,
      "/busybox/1.36/manifest.json",
      "/busybox/1.36/version",
      `/busybox/1.36/${layer}`,
      "/v2/busybox/manifests/manifest.json",
      "/v2/busybox/blobs/" + layer,
      "/v2/layouts/tools/index.json",
      "/v2/layouts/tools/oci-layout",
      "/layouts/tools/index.json",
      "/v2/layouts/tools/blobs/sha256/" + layout.digest.slice(7),
      "/v2/busybox/",
      "/v2/busybox/1.36/",
      "/v2/busybox/blobs/",
      "/v2/busybox/manifests/",
      "/busybox/",
      "/v2/_catalog/../busybox/1.36/manifest.json",
      "/v2/busybox%2f1.36%2fmanifest.json",
      "/v2/busybox/tags/list/../../1.36/manifest.json",
      "/v2/busybox/tags/list%2f..%2f..%2f1.36%2fmanifest.json",
      "/v2/%2fetc%2fpasswd",
      "/v2/busybox/blobs/sha256%3a" + layer + "%2f..%2f..%2f1.36%2fversion",
      "/v2/busybox/manifests/1.36%2f..%2f..%2f..%2fetc%2fpasswd",
      "/v2/busybox/manifests/1.36;/../../etc/passwd",
      "/v2/busybox/manifests/1.36\\..\\..\\version",
    ];
    const failures: string[] = [];
    for (const target of probes) {
      let res: RawResponse;
      try {
        res = await rawRequest(reg.port, "GET", target);
      } catch (e) {
        failures.push(`${target}: ${(e as Error).message}`);
        continue;
      }
      const problems: string[] = [];
      for (const s of secrets) {
        if (res.body.length && (res.body.equals(s.bytes) || res.body.includes(s.bytes))) {
          problems.push(`returned the bytes of ${s.f}`);
        }
      }
      if (res.body.includes(Buffer.from("root:x:0:0"))) problems.push("returned /etc/passwd");
      if (/<a href=|Index of/i.test(res.body.toString("latin1")))
        problems.push("returned a directory listing");
      if (![400, 404].includes(res.status)) problems.push(`status ${res.status}`);
      if (res.headers["docker-distribution-api-version"] !== API_VERSION)
        problems.push("no API version header");
      if (!/^application\/json\b/.test(res.headers["content-type"] ?? "")) {
        problems.push(`Content-Type ${res.headers["content-type"]}`);
      } else {
        try {
          errorCodes(res.body);
        } catch (e) {
          problems.push((e as Error).message);
        }
      }
      if (problems.length) {
        const head = res.raw.toString("latin1").slice(0, 300).replace(/\r\n/g, " | ");
        failures.push(`GET ${target} -> ${problems.join("; ")}\n    ${head}`);
      }
    }
    assert.deepEqual(failures, [], `crafted URLs answered badly:\n${failures.join("\n")}`);
    // "/" is the catalog page (and "/." and "//" are "/"): HTML, none of those files.
    for (const target of ["/", "/.", "//", "/v2/.."]) {
      const res = await rawRequest(reg.port, "GET", target);
      assert.equal(res.status, 200, target);
      assert.match(res.headers["content-type"] ?? "", /^text\/html/, target);
      for (const s of secrets)
        assert.ok(!res.body.includes(s.bytes), `${target} returned the bytes of ${s.f}`);
    }
  });
});
