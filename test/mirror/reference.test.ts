import assert from "node:assert/strict";
import { test } from "node:test";
import {
  canonicalReference,
  hostDir,
  hostOfRepository,
  parseReference,
  ReferenceError,
  servedRepository,
} from "../../src/mirror/reference";

const D = "sha256:" + "ab".repeat(32);

test("references are normalised as Docker does", () => {
  const cases: { description: string; input: string; want: string }[] = [
    { description: "official image, tag", input: "alpine:3.19", want: "docker.io/library/alpine:3.19" },
    { description: "no tag means latest", input: "alpine", want: "docker.io/library/alpine:latest" },
    { description: "Docker Hub user image", input: "bitnami/nginx:1", want: "docker.io/bitnami/nginx:1" },
    { description: "index.docker.io", input: "index.docker.io/alpine:1", want: "docker.io/library/alpine:1" },
    { description: "explicit docker.io", input: "docker.io/alpine", want: "docker.io/library/alpine:latest" },
    { description: "other host", input: "registry.k8s.io/pause:3.10", want: "registry.k8s.io/pause:3.10" },
    { description: "host with port", input: "localhost:5000/a/b:c", want: "localhost:5000/a/b:c" },
    { description: "localhost", input: "localhost/app", want: "localhost/app:latest" },
    { description: "upper-case host", input: "Quay.IO/org/app:1", want: "quay.io/org/app:1" },
    { description: "digest only", input: `quay.io/org/app@${D}`, want: `quay.io/org/app@${D}` },
    { description: "tag and digest", input: `alpine:3.19@${D}`, want: `docker.io/library/alpine:3.19@${D}` },
    { description: "nested path", input: "ghcr.io/a/b/c-d_e.f:v1.2-3", want: "ghcr.io/a/b/c-d_e.f:v1.2-3" },
    {
      description: "first component without a dot is a path",
      input: "team/app:1",
      want: "docker.io/team/app:1",
    },
  ];
  for (const c of cases) assert.equal(canonicalReference(parseReference(c.input)), c.want, c.description);
});

test("bad references are refused with the reason", () => {
  const cases: { description: string; input: string; want: RegExp }[] = [
    { description: "empty", input: "  ", want: /is empty/ },
    { description: "upper-case path", input: "docker.io/Library/alpine", want: /lower case/ },
    { description: "scheme", input: "docker://alpine", want: /URL scheme/ },
    { description: "short digest", input: "alpine@sha256:abc", want: /64 lower-case hex/ },
    { description: "bad tag", input: "alpine:-x", want: /tag "-x"/ },
    { description: "double slash", input: "quay.io//x", want: /component ""/ },
    { description: "host only", input: "quay.io/", want: /no repository path|component ""/ },
    { description: "bad component", input: "a/b__-c", want: /component "b__-c"/ },
    { description: "hex id", input: "ab".repeat(32), want: /hex id/ },
    { description: "IPv6", input: "[::1]:5000/x", want: /IPv6/ },
    { description: "spaces", input: "alpine 3", want: /white space/ },
  ];
  for (const c of cases) {
    assert.throws(
      () => parseReference(c.input),
      (e: unknown) =>
        e instanceof ReferenceError && c.want.test(e.message) && e.message.includes(JSON.stringify(c.input)),
      c.description,
    );
  }
});

test("the host directory holds a port as _PORT, and reads back", () => {
  const cases: { host: string; dir: string }[] = [
    { host: "docker.io", dir: "docker.io" },
    { host: "localhost:5000", dir: "localhost_5000" },
    { host: "127.0.0.1:30500", dir: "127.0.0.1_30500" },
    { host: "upstream-a.invalid", dir: "upstream-a.invalid" },
    { host: "localhost", dir: "localhost" },
  ];
  for (const c of cases) {
    assert.equal(hostDir(c.host), c.dir);
    assert.equal(hostOfRepository(`${c.dir}/some/repo`), c.host);
    assert.equal(servedRepository({ host: c.host, path: "some/repo" }), `${c.dir}/some/repo`);
  }
  for (const notHost of ["library/alpine", "busybox", "big/layer", "team_5000/app", "a-b/c"])
    assert.equal(hostOfRepository(notHost), undefined, notHost);
});
