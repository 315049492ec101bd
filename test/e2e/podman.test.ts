/**
 * podman pulling from our registry, with private storage (vfs, under a temp
 * dir), its own registries.conf, and a temp signature policy that accepts
 * everything (the content is built locally and unsigned).
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { FixtureImage } from "../fixtures/build";
import { privatePodman } from "../support/podman";
import { hostPlatform, once, scratch, servedFixtures, stopAll, tools } from "./harness";

const env = once(async () => {
  const { run: podman, policy } = privatePodman(scratch("podman"));
  return { ...(await servedFixtures()), podman, policy };
});
after(stopAll);
let stores = 0;

interface PodmanImage {
  Id: string;
  Digest: string;
  RepoDigests: string[];
  RepoTags: string[];
  Architecture: string;
  Os: string;
}

describe("podman", () => {
  test("pull by tag: single-arch and multi-arch images; image inspect shows the digest", async (t) => {
    if (!tools(t, "nginx", "skopeo", "podman")) return;
    const { fx, reg, podman, policy } = await env();
    const picks: FixtureImage[] = fx.images.filter(
      (i) =>
        i.reference === "busybox:1.36" ||
        i.reference === "library/alpine:3.19" ||
        i.features.includes("no-media-type") ||
        i.kind === "oci-index" ||
        i.kind === "docker-manifest-list" ||
        i.source === "oci-layout",
    );
    for (const img of picks) {
      await t.test(
        `${img.reference} (${img.kind}${img.source === "oci-layout" ? ", OCI layout" : ""})`,
        () => {
          const store = `t${++stores}`;
          const ref = `${reg.host}/${img.reference}`;
          podman(store, ["pull", "--quiet", "--tls-verify=false", "--signature-policy", policy, ref]);
          const [info] = JSON.parse(podman(store, ["image", "inspect", ref]).stdout) as PodmanImage[];
          assert.equal(
            info.Digest,
            img.digest,
            "podman records the digest of the manifest it resolved the tag to",
          );
          assert.ok(
            info.RepoDigests.includes(`${reg.host}/${img.repo}@${img.digest}`),
            JSON.stringify(info.RepoDigests),
          );
          assert.ok(info.RepoTags.includes(ref), JSON.stringify(info.RepoTags));
          const platform = img.children.length ? hostPlatform() : img.platforms[0];
          assert.equal(`${info.Os}/${info.Architecture}`, platform);
          if (img.children.length) {
            const child = img.children.find((c) => c.platform === platform)!;
            assert.ok(
              info.RepoDigests.includes(`${reg.host}/${img.repo}@${child.digest}`),
              `the ${platform} child's digest is recorded too: ${JSON.stringify(info.RepoDigests)}`,
            );
          }
        },
      );
    }
  });

  test("pull --arch arm64 of a multi-arch image, and pull by digest", async (t) => {
    if (!tools(t, "nginx", "skopeo", "podman")) return;
    const { fx, reg, podman, policy } = await env();
    for (const img of fx.images.filter((i) => i.kind === "oci-index" || i.kind === "docker-manifest-list")) {
      await t.test(`${img.reference} --arch arm64`, () => {
        const store = `a${++stores}`;
        const ref = `${reg.host}/${img.reference}`;
        podman(store, [
          "pull",
          "--quiet",
          "--arch",
          "arm64",
          "--tls-verify=false",
          "--signature-policy",
          policy,
          ref,
        ]);
        const [info] = JSON.parse(podman(store, ["image", "inspect", ref]).stdout) as PodmanImage[];
        assert.equal(info.Architecture, "arm64");
        const arm = img.children.find((c) => c.platform === "linux/arm64")!;
        assert.ok(
          info.RepoDigests.includes(`${reg.host}/${img.repo}@${arm.digest}`),
          JSON.stringify(info.RepoDigests),
        );
      });
      await t.test(`${img.repo}@${img.digest}`, () => {
        const store = `d${++stores}`;
        const ref = `${reg.host}/${img.repo}@${img.digest}`;
        podman(store, ["pull", "--quiet", "--tls-verify=false", "--signature-policy", policy, ref]);
        const [info] = JSON.parse(podman(store, ["image", "inspect", ref]).stdout) as PodmanImage[];
        assert.equal(info.Digest, img.digest);
      });
    }
  });
});
