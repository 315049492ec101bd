import assert from "node:assert/strict";
import { test } from "node:test";
import { parseImageList } from "../../src/mirror/list";
import { planMirror } from "../../src/mirror/plan";
import { parseReference } from "../../src/mirror/reference";
import { skopeoCopyArgv } from "../../src/mirror/skopeo";
import { errorLine } from "../../src/mirror/exec";

const D = "sha256:" + "cd".repeat(32);

test("each reference form lands in its tag directory and is copied from the right source", () => {
  const cases: { description: string; ref: string; tagPath: string; source: string; checkTag?: string }[] = [
    {
      description: "Docker Hub short name",
      ref: "alpine:3.19",
      tagPath: "docker.io/library/alpine/3.19",
      source: "docker.io/library/alpine:3.19",
    },
    {
      description: "digest only: a tag dir named after the digest",
      ref: `quay.io/org/app@${D}`,
      tagPath: `quay.io/org/app/sha256-${"cd".repeat(32)}`,
      source: `quay.io/org/app@${D}`,
    },
    {
      description: "tag and digest: copied by digest into the tag, the tag checked",
      ref: `registry.k8s.io/pause:3.10@${D}`,
      tagPath: "registry.k8s.io/pause/3.10",
      source: `registry.k8s.io/pause@${D}`,
      checkTag: "registry.k8s.io/pause:3.10",
    },
    {
      description: "host with a port",
      ref: "localhost:5000/a/b:c",
      tagPath: "localhost_5000/a/b/c",
      source: "localhost:5000/a/b:c",
    },
  ];
  for (const c of cases) {
    const { items, problems } = planMirror([parseReference(c.ref)]);
    assert.deepEqual(problems, []);
    assert.equal(items[0].tagPath, c.tagPath, c.description);
    assert.equal(items[0].source, c.source, c.description);
    assert.equal(items[0].checkTag, c.checkTag, c.description);
  }
});

test("the same image twice is one item; two that would fill one tag dir differently are a problem", () => {
  const same = planMirror(["alpine:3.19", "docker.io/library/alpine:3.19"].map(parseReference));
  assert.equal(same.items.length, 1);
  assert.deepEqual(same.problems, []);
  const clash = planMirror(["alpine:3.19", `alpine:3.19@${D}`].map(parseReference));
  assert.deepEqual(clash.problems, [
    `"alpine:3.19" and "alpine:3.19@${D}" both go to docker.io/library/alpine/3.19; list one of them`,
  ]);
});

test("image list: comments, blank lines, and every bad line named by file and line", () => {
  const list = parseImageList(
    [
      "# bootstrap images",
      "",
      "registry.k8s.io/pause:3.10  # the sandbox",
      "  alpine:3.19",
      "Bad Ref",
      "x@sha256:12",
    ].join("\n"),
    "images.txt",
  );
  assert.deepEqual(
    list.references.map((r) => `${r.host}/${r.path}:${r.tag}`),
    ["registry.k8s.io/pause:3.10", "docker.io/library/alpine:3.19"],
  );
  assert.deepEqual(list.problems, [
    'images.txt:5: "Bad Ref": contains white space',
    'images.txt:6: "x@sha256:12": digest "sha256:12" is not sha256: followed by 64 lower-case hex digits',
  ]);
});

test("skopeo copy keeps every platform and every digest, and adds only what was asked for", () => {
  assert.deepEqual(skopeoCopyArgv("quay.io/a:1", "/r/.1.partial", { retries: 3 }), [
    "skopeo",
    "copy",
    "--all",
    "--preserve-digests",
    "--retry-times",
    "3",
    "--quiet",
    "docker://quay.io/a:1",
    "dir:/r/.1.partial",
  ]);
  assert.deepEqual(
    skopeoCopyArgv("quay.io/a:1", "/d", { retries: 0, registriesConf: "/etc/r.conf" }).slice(0, 4),
    ["skopeo", "--registries-conf", "/etc/r.conf", "copy"],
  );
});

test("skopeo's fatal message is the one-line error", () => {
  const stderr = [
    'time="2026-01-01T00:00:00Z" level=warning msg="Failed, retrying in 1s ... (1/3). Error: x"',
    'time="2026-01-01T00:00:01Z" level=fatal msg="initializing source docker://a.invalid/x:1: reading manifest 1 in a.invalid/x: manifest unknown: \\"x\\""',
  ].join("\n");
  assert.equal(
    errorLine(stderr),
    'initializing source docker://a.invalid/x:1: reading manifest 1 in a.invalid/x: manifest unknown: "x"',
  );
  assert.equal(errorLine("sh: 1: skopeo: not found\n"), "sh: 1: skopeo: not found");
});
