/**
 * containerd (`ctr`, against a private containerd on its own socket) pulling
 * from our registry: by tag and by digest, `--platform linux/arm64`,
 * `ctr content fetch`, and through a `hosts.toml` mirror for a fake upstream
 * host (containerd then adds `?ns=<upstream>` to every request).
 *
 * Each test has its own containerd (a fresh content store: what it holds came
 * from our registry in that test), and each case pulls into its own namespace,
 * so what a namespace lists is exactly what that pull fetched.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import type { FixtureImage } from "../fixtures/build";
import {
  hostPlatform,
  logMark,
  scratch,
  servedFixtures,
  startContainerd,
  stopAll,
  tools,
  waitLog,
} from "./harness";

const shared = servedFixtures;
/**
 * The fixtures, our registry, and a containerd of the test's own: containerd
 * shares content between namespaces, so a second pull of a blob in the same
 * containerd never reaches the registry.
 */
const env = async () => ({ ...(await shared()), cd: await startContainerd() });
after(stopAll);

let nsCounter = 0;
/** A fresh containerd namespace name. */
const freshNs = (what: string) => `e2e-${++nsCounter}-${what.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`;

/** Digests in a namespace's content store. */
function contentDigests(ctr: (a: string[], ns?: string) => { stdout: string }, ns: string): Set<string> {
  return new Set(
    ctr(["content", "ls", "-q"], ns)
      .stdout.split("\n")
      .map((l) => l.trim())
      .filter((l) => l.startsWith("sha256:")),
  );
}

interface ImageRow {
  ref: string;
  type: string;
  digest: string;
  platforms: string;
}

function images(ctr: (a: string[], ns?: string) => { stdout: string }, ns: string): ImageRow[] {
  return ctr(["images", "ls"], ns)
    .stdout.split("\n")
    .slice(1)
    .filter((l) => l.trim())
    .map((l) => {
      // REF TYPE DIGEST SIZE PLATFORMS LABELS, where SIZE is two words ("38.3 KiB").
      const [ref, type, digest, , , platforms] = l.trim().split(/\s+/);
      return { ref, type, digest, platforms };
    });
}

/** What a pull for `platform` must have fetched: the manifest, and the matching child's config + layers. */
function expectedContent(img: FixtureImage, platform: string): { must: string[]; mustNot: string[] } {
  if (!img.children.length) {
    return { must: [img.digest, ...img.blobs.map((b) => b.digest)], mustNot: [] };
  }
  const child = img.children.find((c) => c.platform === platform);
  assert.ok(child, `${img.reference} has a ${platform} child`);
  const own = [child.digest, child.config.digest, ...child.layers.map((l) => l.digest)];
  const others = img.children
    .filter((c) => c !== child)
    .flatMap((c) => [c.digest, c.config.digest, ...c.layers.map((l) => l.digest)])
    .filter((d) => !own.includes(d));
  return { must: [img.digest, ...own], mustNot: others };
}

function assertContent(have: Set<string>, img: FixtureImage, platform: string, what: string): void {
  const { must, mustNot } = expectedContent(img, platform);
  for (const d of must) assert.ok(have.has(d), `${what}: ${d} was fetched`);
  for (const d of mustNot) assert.ok(!have.has(d), `${what}: ${d} (another platform) was not fetched`);
}

const pullable = (fx: { images: FixtureImage[] }) => fx.images.filter((i) => i.kind !== "oci-artifact");

describe("containerd ctr", () => {
  test("images pull --plain-http by tag: every image kind", async (t) => {
    if (!tools(t, "nginx", "skopeo", "containerd", "ctr")) return;
    const { fx, reg, cd } = await env();
    for (const img of pullable(fx)) {
      await t.test(`${img.reference} (${img.kind})`, () => {
        const ns = freshNs(img.reference);
        const ref = `${reg.host}/${img.reference}`;
        cd.ctr(["images", "pull", "--plain-http", ref], ns);
        const row = images(cd.ctr, ns).find((r) => r.ref === ref);
        assert.ok(row, `ctr images ls shows ${ref}`);
        assert.equal(row.digest, img.digest);
        assert.equal(row.type, img.mediaType);
        assertContent(contentDigests(cd.ctr, ns), img, hostPlatform(), ref);
        // containerd verified every digest while writing; the manifest it kept is the file's bytes.
        const stored = cd.ctr(["content", "get", img.digest], ns).stdout;
        assert.equal(stored, fs.readFileSync(img.manifestPath, "utf8"));
      });
    }
  });

  test("images pull --plain-http by digest: every image kind", async (t) => {
    if (!tools(t, "nginx", "skopeo", "containerd", "ctr")) return;
    const { fx, reg, cd } = await env();
    for (const img of pullable(fx)) {
      await t.test(`${img.repo}@${img.digest} (${img.kind})`, () => {
        const ns = freshNs(img.reference);
        const ref = `${reg.host}/${img.repo}@${img.digest}`;
        cd.ctr(["images", "pull", "--plain-http", ref], ns);
        const row = images(cd.ctr, ns).find((r) => r.ref === ref);
        assert.ok(row, `ctr images ls shows ${ref}`);
        assert.equal(row.digest, img.digest);
        assertContent(contentDigests(cd.ctr, ns), img, hostPlatform(), ref);
      });
    }
  });

  test("images pull --platform linux/arm64 fetches only the arm64 child", async (t) => {
    if (!tools(t, "nginx", "skopeo", "containerd", "ctr")) return;
    const { fx, reg, cd } = await env();
    const multi = fx.images.filter((i) => i.features.includes("multi-arch"));
    assert.ok(multi.length >= 3);
    for (const img of multi) {
      await t.test(`${img.reference} (${img.kind})`, () => {
        const ns = freshNs(img.reference + "-arm64");
        const ref = `${reg.host}/${img.reference}`;
        cd.ctr(["images", "pull", "--plain-http", "--platform", "linux/arm64", ref], ns);
        const have = contentDigests(cd.ctr, ns);
        assertContent(have, img, "linux/arm64", ref);
        const arm = img.children.find((c) => c.platform === "linux/arm64")!;
        const stored = cd.ctr(["content", "get", arm.digest], ns).stdout;
        assert.equal(stored, fs.readFileSync(arm.manifestPath, "utf8"), "arm64 child manifest bytes");
      });
    }
  });

  test("content fetch: an artifact with a subject, and the large layer", async (t) => {
    if (!tools(t, "nginx", "skopeo", "containerd", "ctr")) return;
    const { fx, reg, cd } = await env();
    const picks = fx.images.filter((i) => i.kind === "oci-artifact" || i.features.includes("large-layer"));
    assert.ok(picks.length >= 2);
    for (const img of picks) {
      await t.test(`${img.reference} (${img.kind})`, () => {
        const ns = freshNs(img.reference + "-fetch");
        cd.ctr(["content", "fetch", "--plain-http", `${reg.host}/${img.reference}`], ns);
        const have = contentDigests(cd.ctr, ns);
        assert.ok(have.has(img.digest), "manifest fetched");
        for (const b of img.blobs) assert.ok(have.has(b.digest), `blob ${b.digest} (${b.mediaType}) fetched`);
        if (img.kind === "oci-artifact") {
          // ctr images pull cannot unpack an artifact (no rootfs); fetching is what clients do with one.
          const blob = img.blobs.find((b) => b.size > 2)!;
          const got = cd.ctr(["content", "get", blob.digest], ns).stdout;
          assert.equal(got, fs.readFileSync(path.join(img.path, blob.digest.slice(7)), "utf8"));
        }
      });
    }
  });

  test("as a mirror through hosts.toml: requests carry ?ns=<upstream> and the pull succeeds", async (t) => {
    if (!tools(t, "nginx", "skopeo", "containerd", "ctr")) return;
    const { fx, reg, cd } = await env();
    const hostsDir = scratch("containerd-hosts");
    fs.mkdirSync(path.join(hostsDir, "registry.invalid"));
    fs.writeFileSync(
      path.join(hostsDir, "registry.invalid", "hosts.toml"),
      [
        `server = "https://registry.invalid"`,
        "",
        `[host."http://${reg.host}"]`,
        `  capabilities = ["pull", "resolve"]`,
        "",
      ].join("\n"),
    );
    const picks = fx.images.filter(
      (i) => i.reference === "busybox:1.36" || i.kind === "oci-index" || i.features.includes("no-media-type"),
    );
    for (const img of picks) {
      await t.test(`registry.invalid/${img.reference} (${img.kind})`, async () => {
        const ns = freshNs(img.reference + "-mirror");
        const mark = await logMark(reg);
        const ref = `registry.invalid/${img.reference}`;
        cd.ctr(["images", "pull", "--hosts-dir", hostsDir, ref], ns);
        const row = images(cd.ctr, ns).find((r) => r.ref === ref);
        assert.ok(row, `ctr images ls shows ${ref}`);
        assert.equal(row.digest, img.digest);
        assertContent(contentDigests(cd.ctr, ns), img, hostPlatform(), ref);

        const lines = (await waitLog(reg, mark, new RegExp(`/v2/${img.repo}/blobs/`))).filter((l) =>
          l.includes(`/v2/${img.repo}/`),
        );
        const manifestReqs = lines.filter((l) => l.includes(`/v2/${img.repo}/manifests/`));
        const blobReqs = lines.filter((l) => l.includes(`/v2/${img.repo}/blobs/`));
        assert.ok(manifestReqs.length > 0, `manifest requests logged:\n${lines.join("\n")}`);
        assert.ok(blobReqs.length > 0, `blob requests logged:\n${lines.join("\n")}`);
        for (const l of lines)
          assert.match(l, /[?&]ns=registry\.invalid(?:[&\s"]|$)/, `request without ?ns=: ${l}`);
        assert.ok(
          manifestReqs.some((l) => l.includes(`/manifests/${img.tag}?ns=registry.invalid`)),
          `the tag was resolved through the mirror:\n${manifestReqs.join("\n")}`,
        );
      });
    }
  });
});
