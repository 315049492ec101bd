/**
 * skopeo against our registry (served by `static-container-registry serve`):
 * byte-identical `copy --all` round trips of every fixture, `inspect` by tag
 * and by digest, `--raw`, `list-tags`, and platform selection with
 * `--override-arch arm64`.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { sha256 } from "../../src/inventory";
import { hexOf as hex } from "../../src/demo/oci";
import { assertSameImage, pullToDir } from "../support/skopeo";
import { hostPlatform, runClient, runClientAny, scratch, servedFixtures, stopAll, tools } from "./harness";

const env = servedFixtures;
after(stopAll);

function skopeo(args: string[]) {
  return runClient("skopeo", ["--insecure-policy", ...args]);
}

interface Inspect {
  Digest: string;
  Architecture: string;
  Os: string;
  Layers: string[];
  RepoTags: string[];
}

describe("skopeo", () => {
  test("copy --all of every fixture to dir: is byte-identical to the images tree", async (t) => {
    if (!tools(t, "nginx", "skopeo")) return;
    const { fx, reg } = await env();
    const out = scratch("skopeo-copy");
    for (const img of fx.images) {
      await t.test(
        `${img.reference} (${img.kind}${img.features.length ? ", " + img.features.join(", ") : ""})`,
        () => {
          const dest = path.join(out, img.repo, img.tag);
          pullToDir(reg.host, img.reference, dest);
          assertSameImage(dest, img);
        },
      );
    }
  });

  test("inspect by tag and by digest; --raw returns the exact bytes", async (t) => {
    if (!tools(t, "nginx", "skopeo")) return;
    const { fx, reg } = await env();
    for (const img of fx.images) {
      await t.test(img.reference, () => {
        const bytes = fs.readFileSync(img.manifestPath);
        for (const ref of [`${img.repo}:${img.tag}`, `${img.repo}@${img.digest}`]) {
          const raw = skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/${ref}`]);
          // skopeo prints the raw manifest without adding anything.
          assert.equal(raw.stdout, bytes.toString("utf8"), `inspect --raw ${ref}`);
          if (img.kind === "oci-artifact") {
            // skopeo 1.9 refuses the non-raw inspect of an artifact ("unsupported
            // image-specific operation on artifact"): a client limit, checked below.
            continue;
          }
          const info = JSON.parse(
            skopeo(["inspect", "--tls-verify=false", `docker://${reg.host}/${ref}`]).stdout,
          ) as Inspect;
          assert.equal(info.Digest, img.digest, `inspect ${ref} Digest`);
          // For a list, skopeo describes the child for the host's platform.
          const child = img.children.find((c) => c.platform === hostPlatform());
          if (img.children.length) assert.ok(child, `${img.reference} has a ${hostPlatform()} child`);
          assert.equal(
            `${info.Os}/${info.Architecture}`,
            child?.platform ?? img.platforms[0],
            `inspect ${ref} platform`,
          );
          const layers = child ? child.layers : img.layers;
          assert.deepEqual(
            info.Layers,
            layers.map((l) => l.digest),
            `inspect ${ref} layers`,
          );
          assert.ok(
            info.RepoTags.includes(img.tag),
            `inspect ${ref} RepoTags ${JSON.stringify(info.RepoTags)}`,
          );
        }
        if (img.kind === "oci-artifact") {
          const r = runClientAny("skopeo", [
            "inspect",
            "--tls-verify=false",
            `docker://${reg.host}/${img.reference}`,
          ]);
          assert.notEqual(r.status, 0);
          assert.match(r.stderr, /artifact/, "skopeo's own artifact message, not a registry error");
        }
      });
    }
    for (const img of fx.images.filter((i) => i.children.length)) {
      await t.test(`${img.reference}: children by digest`, () => {
        for (const c of img.children) {
          const raw = skopeo([
            "inspect",
            "--raw",
            "--tls-verify=false",
            `docker://${reg.host}/${img.repo}@${c.digest}`,
          ]);
          assert.equal(sha256(Buffer.from(raw.stdout, "utf8")), c.digest, `${c.platform} child bytes`);
        }
      });
    }
  });

  test("list-tags lists every tag of each repository, nested names included", async (t) => {
    if (!tools(t, "nginx", "skopeo")) return;
    const { fx, reg } = await env();
    const repos = new Map<string, string[]>();
    for (const img of fx.images) repos.set(img.repo, [...(repos.get(img.repo) ?? []), img.tag]);
    for (const [repo, tags] of repos) {
      const r = skopeo(["list-tags", "--tls-verify=false", `docker://${reg.host}/${repo}`]);
      const doc = JSON.parse(r.stdout) as { Repository: string; Tags: string[] };
      assert.equal(doc.Repository, `${reg.host}/${repo}`);
      assert.deepEqual([...doc.Tags].sort(), [...tags].sort(), `tags of ${repo}`);
    }
  });

  test("--override-arch arm64 picks the arm64 child of each multi-arch image", async (t) => {
    if (!tools(t, "nginx", "skopeo")) return;
    const { fx, reg } = await env();
    const multi = fx.images.filter((i) => i.features.includes("multi-arch"));
    assert.ok(multi.length >= 3, "fixtures have an OCI index, a Docker list and a layout index");
    const out = scratch("skopeo-arm64");
    for (const img of multi) {
      await t.test(`${img.reference} (${img.kind})`, () => {
        const arm = img.children.find((c) => c.platform === "linux/arm64");
        const amd = img.children.find((c) => c.platform === "linux/amd64");
        assert.ok(arm && amd, "fixture has both platforms");
        const info = JSON.parse(
          skopeo([
            "--override-arch",
            "arm64",
            "inspect",
            "--tls-verify=false",
            `docker://${reg.host}/${img.reference}`,
          ]).stdout,
        ) as Inspect;
        assert.equal(info.Architecture, "arm64");
        assert.deepEqual(
          info.Layers,
          arm.layers.map((l) => l.digest),
        );
        // Copy without --all: skopeo resolves the arm64 child and writes only it.
        const dest = path.join(out, img.repo, img.tag);
        pullToDir(reg.host, img.reference, dest, { all: false, arch: "arm64" });
        const manifest = fs.readFileSync(path.join(dest, "manifest.json"));
        assert.equal(sha256(manifest), arm.digest, "the arm64 child's manifest, byte for byte");
        assert.notEqual(arm.digest, amd.digest);
        for (const l of arm.layers)
          assert.ok(fs.existsSync(path.join(dest, hex(l.digest))), `arm64 layer ${l.digest}`);
        for (const l of amd.layers.filter((a) => !arm.layers.some((b) => b.digest === a.digest))) {
          assert.ok(
            !fs.existsSync(path.join(dest, hex(l.digest))),
            `amd64-only layer ${l.digest} not fetched`,
          );
        }
      });
    }
  });
});
