/**
 * The catalog page's pure logic (src/ui/logic.ts), three times: as node
 * imports it, and as the browser gets it — the page's bundle of the compiled
 * modules (from dist/, and compiled from the TypeScript sources as under
 * ts-node), evaluated in a fresh JavaScript context with none of node's
 * globals — so the code the page runs is the code tested here.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, test } from "node:test";
import * as vm from "node:vm";
import { bundle } from "../../src/ui/bundle";
import * as nodeLogic from "../../src/ui/logic";

type Logic = typeof nodeLogic;

const DIST_SRC = path.resolve(__dirname, "..", "..", "src");
const TS_SRC = path.resolve(__dirname, "..", "..", "..", "src");

/** The logic module as the page's script has it, in a context with only what a browser also has. */
function browserLogic(base: string): Logic {
  return vm.runInNewContext(bundle(base, "ui/logic"), { URLSearchParams }) as Logic;
}

/** Values from the other context compared as plain data (their prototypes differ). */
const plain = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

const HEX = "a".repeat(64);
const D = `sha256:${HEX}`;
const D2 = `sha256:${"b".repeat(64)}`;

for (const [where, L] of [
  ["node", nodeLogic],
  ["browser bundle", browserLogic(DIST_SRC)],
  ["browser bundle from the TypeScript sources", browserLogic(TS_SRC)],
] as const) {
  describe(`catalog page logic (${where})`, () => {
    test("sizes in binary units, with one decimal below 100", () => {
      const cases: [number, string][] = [
        [0, "0 B"],
        [1023, "1023 B"],
        [1024, "1.0 KiB"],
        [1536, "1.5 KiB"],
        [100 * 1024, "100 KiB"],
        [1024 * 1024 - 1, "1.0 MiB"],
        [8 * 1024 * 1024 + 123_457, "8.1 MiB"],
        [3 * 1024 ** 4, "3.0 TiB"],
        [-1, "unknown size"],
      ];
      for (const [bytes, text] of cases) assert.equal(L.formatSize(bytes), text, String(bytes));
    });

    test("created times in UTC to the minute; nothing for a missing or bad one", () => {
      assert.equal(L.formatCreated("2024-01-01T00:00:00Z"), "2024-01-01 00:00 UTC");
      assert.equal(L.formatCreated("2024-06-30T23:59:59.123456789+02:00"), "2024-06-30 21:59 UTC");
      for (const bad of [undefined, "", "yesterday", 17]) assert.equal(L.formatCreated(bad), "");
    });

    test("platforms of an index, BuildKit's attestation manifests counted apart", () => {
      const index = {
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [
          { digest: D, size: 500, platform: { os: "linux", architecture: "amd64" } },
          { digest: D2, size: 501, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
          {
            digest: `sha256:${"c".repeat(64)}`,
            size: 800,
            platform: { os: "unknown", architecture: "unknown" },
            annotations: {
              "vnd.docker.reference.type": "attestation-manifest",
              "vnd.docker.reference.digest": D,
            },
          },
          {
            digest: `sha256:${"d".repeat(64)}`,
            size: 700,
            platform: { os: "windows", architecture: "amd64", "os.version": "10.0.20348.2340" },
          },
        ],
      };
      assert.deepEqual(plain(L.platformsOf(index)), {
        platforms: [
          { platform: "linux/amd64", digest: D, size: 500, mediaType: "" },
          { platform: "linux/arm64/v8", digest: D2, size: 501, mediaType: "" },
          {
            platform: "windows/amd64 (10.0.20348.2340)",
            digest: `sha256:${"d".repeat(64)}`,
            size: 700,
            mediaType: "",
          },
        ],
        attestations: 1,
      });
      assert.equal(L.platformString(undefined), "unknown platform");
    });

    test("kinds: index, image, cosign's signature / attestation / SBOM, other artifacts", () => {
      const layer = (mediaType: string) => [{ mediaType, digest: D, size: 1 }];
      const cfg = (mediaType: string) => ({ mediaType, digest: D2, size: 2 });
      const cases: [string, string | undefined, nodeLogic.ManifestDoc, string][] = [
        [
          "OCI index",
          "application/vnd.oci.image.index.v1+json",
          { manifests: [] },
          "multi-platform index (OCI)",
        ],
        [
          "Docker list",
          "application/vnd.docker.distribution.manifest.list.v2+json",
          { manifests: [] },
          "multi-platform manifest list (Docker)",
        ],
        ["index without mediaType", undefined, { manifests: [] }, "multi-platform index (OCI)"],
        [
          "Docker image",
          "application/vnd.docker.distribution.manifest.v2+json",
          { config: cfg("application/vnd.docker.container.image.v1+json"), layers: layer("x") },
          "image (Docker)",
        ],
        [
          "OCI image",
          "application/vnd.oci.image.manifest.v1+json",
          { config: cfg("application/vnd.oci.image.config.v1+json"), layers: layer("y") },
          "image (OCI)",
        ],
        [
          "cosign signature",
          "application/vnd.oci.image.manifest.v1+json",
          {
            config: cfg("application/vnd.oci.image.config.v1+json"),
            layers: layer("application/vnd.dev.cosign.simplesigning.v1+json"),
          },
          "signature",
        ],
        [
          "cosign attestation",
          "application/vnd.oci.image.manifest.v1+json",
          {
            config: cfg("application/vnd.oci.image.config.v1+json"),
            layers: layer("application/vnd.dsse.envelope.v1+json"),
          },
          "attestation",
        ],
        [
          "SBOM artifact",
          "application/vnd.oci.image.manifest.v1+json",
          { artifactType: "application/spdx+json", config: cfg("application/vnd.oci.empty.v1+json") },
          "SBOM",
        ],
        [
          "artifact by config type",
          "application/vnd.oci.image.manifest.v1+json",
          { config: cfg("application/vnd.cncf.helm.config.v1+json"), layers: layer("application/x-tar") },
          "artifact (application/vnd.cncf.helm.config.v1+json)",
        ],
        [
          "artifact by artifactType",
          "application/vnd.oci.image.manifest.v1+json",
          { artifactType: "application/vnd.example.thing", config: cfg("application/vnd.oci.empty.v1+json") },
          "artifact (application/vnd.example.thing)",
        ],
      ];
      for (const [what, mediaType, doc, label] of cases) {
        const k = L.manifestKind(mediaType, doc);
        assert.equal(L.kindLabel(k.kind, mediaType, k.type), label, what);
      }
    });

    test("total size: every manifest, each distinct blob once (a base layer shared by two platforms counts once)", () => {
      const base = { digest: D, size: 1000 };
      const amd = {
        size: 400,
        doc: { config: { digest: "c1", size: 50 }, layers: [base, { digest: "l1", size: 7 }] },
      };
      const arm = {
        size: 401,
        doc: { config: { digest: "c2", size: 51 }, layers: [base, { digest: "l2", size: 8 }] },
      };
      assert.equal(L.totalSize([amd]), 400 + 50 + 1000 + 7);
      assert.equal(L.totalSize([{ size: 300, doc: {} }, amd, arm]), 300 + 400 + 401 + 50 + 51 + 1000 + 7 + 8);
    });

    test("cosign's tag scheme, and what refers to an image counted by kind", () => {
      assert.deepEqual(plain(L.cosignTag(`sha256-${HEX}.sig`)), { kind: "signature", digest: D });
      assert.deepEqual(plain(L.cosignTag(`sha256-${HEX}.att`)), { kind: "attestation", digest: D });
      assert.deepEqual(plain(L.cosignTag(`sha256-${HEX}.sbom`)), { kind: "sbom", digest: D });
      for (const other of [
        `sha256-${HEX}`,
        `sha256-${HEX}.sig2`,
        "sha256-abc.sig",
        "1.0",
        `sha256-${HEX.toUpperCase()}.sig`,
      ])
        assert.equal(L.cosignTag(other), undefined, other);

      const referrers: nodeLogic.Descriptor[] = [
        { digest: D, size: 1, artifactType: "application/vnd.dev.cosign.artifact.sig.v1+json" },
        { digest: D, size: 1, artifactType: "application/vnd.cncf.notary.signature" },
        {
          digest: D,
          size: 1,
          artifactType: "application/vnd.dev.sigstore.bundle.v0.3+json",
          annotations: { "dev.sigstore.bundle.predicateType": "https://slsa.dev/provenance/v1" },
        },
        {
          digest: D,
          size: 1,
          artifactType: "application/vnd.dev.sigstore.bundle.v0.3+json",
          annotations: { "dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1" },
        },
        { digest: D, size: 1, artifactType: "application/vnd.cyclonedx+json" },
        { digest: D, size: 1, artifactType: "application/vnd.example.sbom.v1" },
        { digest: D, size: 1, artifactType: "application/vnd.example.thing" },
      ];
      const counts = L.countProvenance(
        [
          { kind: "signature", layers: 2 },
          { kind: "attestation", layers: 0 },
        ],
        referrers,
        1,
      );
      assert.deepEqual(plain(counts), { signature: 5, attestation: 3, sbom: 2, other: 1 });
      assert.equal(L.countsText(counts), "5 signatures, 3 attestations, 2 SBOMs, 1 other referrer");
      assert.equal(L.countsText({ signature: 1, attestation: 0, sbom: 1, other: 0 }), "1 signature, 1 SBOM");
      assert.equal(L.countsText(L.countProvenance([], [])), "none");
    });

    test("a page of tags: cosign's tags skipped (unless all) and counted, the cursor at the last tag used", () => {
      const sig = `sha256-${HEX}.sig`;
      const raw = ["1.0", "1.1", sig, `sha256-${HEX}`, "v2"];
      assert.deepEqual(plain(L.visibleTags(raw, 3, false)), {
        tags: ["1.0", "1.1", `sha256-${HEX}`],
        cursor: `sha256-${HEX}`,
        hidden: 1,
        rest: 1,
      });
      assert.deepEqual(plain(L.visibleTags(raw, 3, true)), {
        tags: ["1.0", "1.1", sig],
        cursor: sig,
        hidden: 0,
        rest: 2,
      });
      assert.deepEqual(plain(L.visibleTags([sig], 5, false)), { tags: [], cursor: sig, hidden: 1, rest: 0 });
      assert.deepEqual(plain(L.visibleTags([], 5, false)), { tags: [], hidden: 0, rest: 0 });
      assert.equal(L.tagsStatus(50, undefined, true, 0), "50 tags, more on the next page.");
      assert.equal(
        L.tagsStatus(1, "v1.9", false, 2),
        "1 tag after v1.9 (2 cosign tags not listed: counted on the images they refer to).",
      );
      assert.equal(L.tagsStatus(0, "v9", false, 0), "No tags after v9.");
    });

    test("repository search: every word, any case, catalog order kept", () => {
      const names = ["docker.io/library/alpine", "quay.io/org/app", "library/alpine", "team/Alpine-tools"];
      assert.deepEqual(plain(L.filterRepositories(names, "alpine")), [names[0], names[2], names[3]]);
      assert.deepEqual(plain(L.filterRepositories(names, "  LIBRARY  alp ")), [names[0], names[2]]);
      assert.deepEqual(plain(L.filterRepositories(names, "")), names);
      assert.deepEqual(plain(L.filterRepositories(names, "zzz")), []);
    });

    test("original names of host-prefixed trees, with the name prefix known or not", () => {
      const cases: [string, string | undefined, string | undefined][] = [
        ["docker.io/library/alpine", "", "docker.io/library/alpine"],
        ["mirror/docker.io/library/alpine", "mirror/", "docker.io/library/alpine"],
        ["localhost_5000/app", "", "localhost:5000/app"],
        ["library/alpine", "", undefined],
        ["mirror/docker.io/library/alpine", "", undefined],
        ["other/docker.io/x", "mirror/", undefined],
        // Unknown prefix (several roots): the first host-like component starts it.
        ["team/a/registry.k8s.io/pause", undefined, "registry.k8s.io/pause"],
        ["library/alpine", undefined, undefined],
      ];
      for (const [name, prefix, want] of cases)
        assert.equal(L.originalName(name, prefix), want, `${name} (${prefix})`);
    });

    test("pull commands: by tag and digest here, and by the original name on a wired node", () => {
      assert.deepEqual(
        plain(
          L.pullCommands({
            host: "reg:5000",
            name: "mirror/docker.io/library/alpine",
            tag: "3.19",
            digest: D,
            prefix: "mirror/",
          }),
        ),
        [
          { label: "by tag", command: "docker pull reg:5000/mirror/docker.io/library/alpine:3.19" },
          { label: "by digest", command: `docker pull reg:5000/mirror/docker.io/library/alpine@${D}` },
          { label: "original name, on a wired node", command: "crictl pull docker.io/library/alpine:3.19" },
          {
            label: "original name by digest, on a wired node",
            command: `crictl pull docker.io/library/alpine@${D}`,
          },
        ],
      );
      assert.deepEqual(
        plain(
          L.pullCommands({ host: "127.0.0.1:5000", name: "busybox", tag: "1.36", digest: D, prefix: "" }),
        ).map((c) => c.command),
        ["docker pull 127.0.0.1:5000/busybox:1.36", `docker pull 127.0.0.1:5000/busybox@${D}`],
      );
    });

    test("routes in the location hash, both ways", () => {
      const routes: nodeLogic.Route[] = [
        { view: "repositories", query: "" },
        { view: "repositories", query: "alp ine&x" },
        { view: "repository", name: "library/alpine", all: false },
        { view: "repository", name: "library/alpine", after: "3.18", all: true },
        { view: "repository", name: "a/b", after: "v1.0+x", all: false },
      ];
      for (const r of routes) assert.deepEqual(plain(L.parseRoute(L.routeHash(r))), r, L.routeHash(r));
      assert.deepEqual(plain(L.parseRoute("")), { view: "repositories", query: "" });
      assert.deepEqual(plain(L.parseRoute("#/nowhere")), { view: "repositories", query: "" });
      assert.equal(L.nextLink('</v2/_catalog?n=2&last=b>; rel="next"'), "/v2/_catalog?n=2&last=b");
      assert.equal(L.nextLink(null), undefined);
    });
  });
}
