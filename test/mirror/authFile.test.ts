/**
 * Credentials found as containers/image finds them: which files, in which
 * order, which key of a file, and what an entry holds.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import {
  authFilePaths,
  decodeAuth,
  findCredentials,
  lookupAuth,
  parseAuthDocument,
} from "../../src/mirror/authFile";
import { authJsonDocument } from "../../src/mirror/script";
import { tmpDir } from "../support/tools";

const b64 = (s: string) => Buffer.from(s).toString("base64");

test("the auth files, in containers/image's order", () => {
  const home = "/home/u";
  assert.deepEqual(
    authFilePaths({ REGISTRY_AUTH_FILE: "/tmp/auth.json" }, home, 1000).map((f) => f.path),
    [
      "/tmp/auth.json",
      "/home/u/.config/containers/auth.json",
      "/home/u/.docker/config.json",
      "/home/u/.dockercfg",
    ],
  );
  assert.deepEqual(
    authFilePaths(
      { XDG_RUNTIME_DIR: "/run/user/1000", XDG_CONFIG_HOME: "/cfg", DOCKER_CONFIG: "/dk" },
      home,
      1000,
    ).map((f) => f.path),
    [
      "/run/user/1000/containers/auth.json",
      "/cfg/containers/auth.json",
      "/dk/config.json",
      "/home/u/.dockercfg",
    ],
  );
  assert.equal(authFilePaths({}, home, 0)[0].path, "/run/containers/0/auth.json");
  assert.deepEqual(
    authFilePaths({}, home, 0).map((f) => f.legacy),
    [false, false, false, true],
  );
});

test("lookup: the repository, then each shorter namespace, then the host; URL keys and Docker Hub's names", () => {
  const doc = parseAuthDocument(
    JSON.stringify({
      auths: {
        "quay.io/org/app": { auth: b64("app:1") },
        "quay.io/org": { auth: b64("org:2") },
        "quay.io": { auth: b64("host:3") },
        "https://index.docker.io/v1/": { auth: b64("hub:4") },
        "http://legacy.example:5000/v2/": { auth: b64("legacy:5") },
        "helped.example": {},
      },
      credHelpers: { "ecr.example": "ecr-login" },
    }),
    { path: "auth.json", legacy: false },
  );
  const cases: { name: string; want: string }[] = [
    { name: "quay.io/org/app", want: "entry quay.io/org/app" },
    { name: "quay.io/org/other", want: "entry quay.io/org" },
    { name: "quay.io/else/x", want: "entry quay.io" },
    { name: "docker.io/library/alpine", want: "entry https://index.docker.io/v1/" },
    { name: "registry-1.docker.io/library/alpine", want: "entry https://index.docker.io/v1/" },
    { name: "legacy.example:5000/a", want: "entry http://legacy.example:5000/v2/" },
    { name: "ecr.example/repo", want: "helper ecr-login" },
    { name: "helped.example/x", want: "entry helped.example" },
    { name: "other.example/x", want: "none" },
  ];
  for (const c of cases) {
    const r = lookupAuth(doc, c.name, false);
    const got = r.kind === "entry" ? `entry ${r.key}` : r.kind === "helper" ? `helper ${r.helper}` : "none";
    assert.equal(got, c.want, c.name);
  }
  // The legacy .dockercfg: the map is the whole document, keyed by host (or URL).
  const legacy = parseAuthDocument(JSON.stringify({ "https://quay.io/v1/": { auth: b64("l:6") } }), {
    path: ".dockercfg",
    legacy: true,
  });
  const r = lookupAuth(legacy, "quay.io/org/app", true);
  assert.equal(r.kind === "entry" && r.key, "https://quay.io/v1/");
});

test("an entry's auth: user and password split at the first colon; unusable ones are skipped", () => {
  assert.deepEqual(decodeAuth(b64("robot$org+x:pa:ss")), { username: "robot$org+x", password: "pa:ss" });
  assert.equal(decodeAuth(b64("no-colon")), undefined);
  assert.equal(decodeAuth(undefined), undefined);
  assert.equal(decodeAuth(""), undefined);
});

test("findCredentials: the first file with an entry wins; empty entries are passed over; a bad file is named", () => {
  const dir = tmpDir("authfile");
  try {
    const first = path.join(dir, "first.json");
    const second = path.join(dir, "second.json");
    // What the mirror script writes from the component's registryCredentials.
    fs.writeFileSync(first, authJsonDocument({ "127.0.0.1:5000": { username: "u", password: "p" } }));
    fs.writeFileSync(
      second,
      JSON.stringify({
        auths: { "127.0.0.1:5000": { auth: b64("later:x") }, "q.example": { auth: b64("q:y") } },
      }),
    );
    const files = [
      { path: first, legacy: false },
      { path: path.join(dir, "missing.json"), legacy: false },
      { path: second, legacy: false },
    ];
    const a = findCredentials("127.0.0.1:5000/app", files);
    assert.deepEqual(a && { u: a.username, p: a.password }, { u: "u", p: "p" });
    assert.match(a!.from, /first\.json \(127\.0\.0\.1:5000\)$/);
    const q = findCredentials("q.example/app", files);
    assert.equal(q?.username, "q");
    assert.equal(findCredentials("none.example/app", files), undefined);
    fs.writeFileSync(second, "{not json");
    assert.throws(() => findCredentials("none.example/app", files), /auth file .*second\.json is not JSON/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a credHelpers entry runs docker-credential-<helper> get, with the host on its input", () => {
  const dir = tmpDir("credhelper");
  try {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const helper = path.join(bin, "docker-credential-test");
    fs.writeFileSync(
      helper,
      `#!/bin/sh\nread host\nif [ "$1" = get ] && [ "$host" = ecr.example ]; then echo '{"ServerURL":"ecr.example","Username":"AWS","Secret":"tok"}'; exit 0; fi\necho "credentials not found in native keychain"; exit 1\n`,
      { mode: 0o755 },
    );
    const file = path.join(dir, "config.json");
    fs.writeFileSync(
      file,
      JSON.stringify({ credHelpers: { "ecr.example": "test", "gone.example": "test" } }),
    );
    const oldPath = process.env.PATH;
    process.env.PATH = `${bin}:${oldPath}`;
    try {
      const c = findCredentials("ecr.example/app", [{ path: file, legacy: false }]);
      assert.deepEqual(c && { u: c.username, p: c.password }, { u: "AWS", p: "tok" });
      assert.match(c!.from, /docker-credential-test/);
      assert.equal(findCredentials("gone.example/app", [{ path: file, legacy: false }]), undefined);
    } finally {
      process.env.PATH = oldPath;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
