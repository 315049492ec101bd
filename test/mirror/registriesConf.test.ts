/**
 * registries.conf read as containers/image reads it: which entry a name
 * gets, where the request goes (location rewrites, mirrors and their rules),
 * the version 1 format, drop-ins, and the files it refuses.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import {
  BlockedError,
  loadRegistriesConf,
  parseRegistriesConf,
  prefixMatch,
  pullSources,
  RegistriesConfError,
  type RegistriesConf,
} from "../../src/mirror/registriesConf";
import { tmpDir } from "../support/tools";

const conf = (text: string): RegistriesConf => ({
  registries: parseRegistriesConf(text, "test.conf"),
  files: ["test.conf"],
});

const CONF = conf(`
unqualified-search-registries = ["docker.io"]

[[registry]]
prefix = "upstream.invalid"
location = "127.0.0.1:5000"
insecure = true

[[registry]]
prefix = "example.com/foo"
location = "internal.example.net/bar"
[[registry.mirror]]
location = "mirror-0.local/mirror-for-foo"
[[registry.mirror]]
location = "mirror-1.local/mirrors/foo"
insecure = true
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "mirror-2.local/foo"
pull-from-mirror = "tag-only"

[[registry]]
location = "example.com"

[[registry]]
prefix = "docker.io/library"
location = "hub-cache.local:5000/library"
mirror-by-digest-only = true
[[registry.mirror]]
location = "hub-mirror.local/library"

[[registry]]
prefix = "*.corp.example"
insecure = true

[[registry]]
prefix = "quay.io/blocked"
location = "quay.io/blocked"
blocked = true

[[registry]]
location = "redirected.example/quay"
blocked = true
[[registry]]
prefix = "quay.io/moved"
location = "redirected.example/quay"
blocked = true
`);

test("pull sources: the longest prefix decides; locations rewrite; mirrors first, by their rules", () => {
  const show = (name: string, byDigest: boolean) =>
    pullSources(CONF, name, byDigest).map(
      (s) => `${s.host}/${s.path}${s.insecure ? " insecure" : ""}${s.mirror ? " mirror" : ""}`,
    );
  const cases: { description: string; name: string; byDigest: boolean; want: string[] }[] = [
    {
      description: "host prefix rewritten to a host:port location, insecure",
      name: "upstream.invalid/signed/rsa",
      byDigest: true,
      want: ["127.0.0.1:5000/signed/rsa insecure"],
    },
    {
      description: "no entry: the name as it is",
      name: "registry.k8s.io/pause",
      byDigest: true,
      want: ["registry.k8s.io/pause"],
    },
    {
      description:
        "namespace prefix beats the host entry; digest request: all-mirrors and digest-only mirrors",
      name: "example.com/foo/app",
      byDigest: true,
      want: [
        "mirror-0.local/mirror-for-foo/app mirror",
        "mirror-1.local/mirrors/foo/app insecure mirror",
        "internal.example.net/bar/app",
      ],
    },
    {
      description: "tag request: all-mirrors and tag-only mirrors",
      name: "example.com/foo/app",
      byDigest: false,
      want: [
        "mirror-0.local/mirror-for-foo/app mirror",
        "mirror-2.local/foo/app mirror",
        "internal.example.net/bar/app",
      ],
    },
    {
      description: "prefix must end at a separator: example.com/food is not example.com/foo",
      name: "example.com/food/app",
      byDigest: true,
      want: ["example.com/food/app"],
    },
    {
      description: "mirror-by-digest-only: mirrors for a digest request",
      name: "docker.io/library/alpine",
      byDigest: true,
      want: ["hub-mirror.local/library/alpine mirror", "hub-cache.local:5000/library/alpine"],
    },
    {
      description: "mirror-by-digest-only: no mirrors for a tag request",
      name: "docker.io/library/alpine",
      byDigest: false,
      want: ["hub-cache.local:5000/library/alpine"],
    },
    {
      description: "docker.io outside library/ is another prefix (none here)",
      name: "docker.io/bitnami/nginx",
      byDigest: true,
      want: ["docker.io/bitnami/nginx"],
    },
    {
      description: "wildcard prefix: no rewrite, its settings apply",
      name: "reg.eu.corp.example/team/app",
      byDigest: true,
      want: ["reg.eu.corp.example/team/app insecure"],
    },
    {
      description: "wildcard needs a subdomain",
      name: "corp.example/team/app",
      byDigest: true,
      want: ["corp.example/team/app"],
    },
  ];
  for (const c of cases) assert.deepEqual(show(c.name, c.byDigest), c.want, c.description);
});

test("blocked registries are refused, by the name asked for and by where it would go", () => {
  assert.throws(
    () => pullSources(CONF, "quay.io/blocked/app", true),
    (e: unknown) => {
      return (
        e instanceof BlockedError &&
        /quay\.io\/blocked\/app is blocked in test\.conf \(prefix "quay\.io\/blocked"\)/.test(e.message)
      );
    },
  );
  assert.throws(() => pullSources(CONF, "quay.io/moved/app", true), BlockedError);
  assert.deepEqual(
    pullSources(CONF, "quay.io/other/app", true).map((s) => s.host),
    ["quay.io"],
  );
});

test("prefix matching: separators, ports, wildcards", () => {
  const cases: { name: string; prefix: string; want: number }[] = [
    { name: "example.com/a", prefix: "example.com", want: 11 },
    { name: "example.com", prefix: "example.com", want: 11 },
    { name: "example.com:5000/a", prefix: "example.com", want: 11 }, // containers/image's documented quirk
    { name: "example.community/a", prefix: "example.com", want: -1 },
    { name: "example.com/a@sha256:x", prefix: "example.com/a", want: 13 },
    { name: "a.b.example.com/x", prefix: "*.example.com", want: 15 },
    { name: "example.com/x", prefix: "*.example.com", want: -1 },
    { name: "other.com/a.example.com", prefix: "*.example.com", want: -1 },
  ];
  for (const c of cases) assert.equal(prefixMatch(c.name, c.prefix), c.want, `${c.name} ~ ${c.prefix}`);
});

test("the version 1 format's insecure and block lists", () => {
  const v1 = conf(`
[registries.search]
registries = ['docker.io']
[registries.insecure]
registries = ['old.example:5000']
[registries.block]
registries = ['bad.example']
`);
  assert.deepEqual(pullSources(v1, "old.example:5000/app", true), [
    { host: "old.example:5000", path: "app", insecure: true, mirror: false },
  ]);
  assert.throws(() => pullSources(v1, "bad.example/app", true), BlockedError);
});

test("files containers/image refuses are refused, naming the file and the entry", () => {
  const cases: { description: string; text: string; want: RegExp }[] = [
    { description: "not TOML", text: "[[registry]\n", want: /not valid TOML/ },
    {
      description: "URL scheme",
      text: '[[registry]]\nlocation = "https://x.example"\n',
      want: /#1 location .*URI schemes/,
    },
    {
      description: "nothing set",
      text: "[[registry]]\ninsecure = true\n",
      want: /both location and prefix are unset/,
    },
    {
      description: "prefix without location",
      text: '[[registry]]\nprefix = "a.example"\n',
      want: /location is unset/,
    },
    {
      description: "bad wildcard",
      text: '[[registry]]\nprefix = "*.a.example/x"\n',
      want: /wildcard prefix/,
    },
    {
      description: "bad pull-from-mirror",
      text: '[[registry]]\nlocation = "a.example"\n[[registry.mirror]]\nlocation = "m"\npull-from-mirror = "sometimes"\n',
      want: /mirror #1: unsupported pull-from-mirror value "sometimes"/,
    },
    {
      description: "pull-from-mirror with mirror-by-digest-only",
      text: '[[registry]]\nlocation = "a.example"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "m"\npull-from-mirror = "all"\n',
      want: /cannot go with the registry's mirror-by-digest-only/,
    },
    {
      description: "conflicting insecure for one location",
      text: '[[registry]]\nprefix = "a.example/x"\nlocation = "b.example"\n[[registry]]\nprefix = "a.example/y"\nlocation = "b.example"\ninsecure = true\n',
      want: /"b\.example" is defined more than once with conflicting/,
    },
    {
      description: "v1 and v2 mixed",
      text: '[registries.insecure]\nregistries = ["a"]\n[[registry]]\nlocation = "b"\n',
      want: /mixes the version 1 and version 2 formats/,
    },
    {
      description: "insecure not a boolean",
      text: '[[registry]]\nlocation = "a"\ninsecure = "yes"\n',
      want: /insecure must be true or false/,
    },
  ];
  for (const c of cases)
    assert.throws(
      () => parseRegistriesConf(c.text, "/etc/x.conf"),
      (e: unknown) =>
        e instanceof RegistriesConfError &&
        e.message.startsWith("registries.conf /etc/x.conf: ") &&
        c.want.test(e.message),
      c.description,
    );
});

test("loading: the given file, then drop-ins merged by prefix in name order; the user's file replaces the system's", () => {
  const dir = tmpDir("registries-conf");
  try {
    const etc = path.join(dir, "etc");
    const home = path.join(dir, "home");
    fs.mkdirSync(path.join(etc, "registries.conf.d"), { recursive: true });
    fs.writeFileSync(
      path.join(etc, "registries.conf"),
      '[[registry]]\nprefix = "a.example"\nlocation = "system-a"\n',
    );
    fs.writeFileSync(
      path.join(etc, "registries.conf.d", "10-b.conf"),
      '[[registry]]\nprefix = "a.example"\nlocation = "dropin-a"\n',
    );
    fs.writeFileSync(
      path.join(etc, "registries.conf.d", "20-c.conf"),
      '[[registry]]\nprefix = "c.example"\nlocation = "dropin-c"\n',
    );
    fs.writeFileSync(path.join(etc, "registries.conf.d", "ignored.txt"), "not toml [");
    const given = path.join(dir, "given.conf");
    fs.writeFileSync(given, '[[registry]]\nprefix = "g.example"\nlocation = "given-g"\n');
    const where = (c: RegistriesConf, name: string) => pullSources(c, name, true).map((s) => s.host);

    const system = loadRegistriesConf({ etc, home });
    assert.deepEqual(
      where(system, "a.example/x"),
      ["dropin-a"],
      "a drop-in replaces the entry of its prefix",
    );
    assert.deepEqual(where(system, "c.example/x"), ["dropin-c"]);
    assert.equal(system.files.length, 3);

    const explicit = loadRegistriesConf({ file: given, etc, home });
    assert.deepEqual(where(explicit, "g.example/x"), ["given-g"]);
    assert.deepEqual(
      where(explicit, "a.example/x"),
      ["dropin-a"],
      "drop-ins apply beside an explicit file too",
    );

    fs.mkdirSync(path.join(home, ".config", "containers"), { recursive: true });
    fs.writeFileSync(
      path.join(home, ".config", "containers", "registries.conf"),
      '[[registry]]\nprefix = "u.example"\nlocation = "user-u"\n',
    );
    const user = loadRegistriesConf({ etc, home });
    assert.deepEqual(where(user, "u.example/x"), ["user-u"]);
    assert.deepEqual(
      where(user, "a.example/x"),
      ["a.example"],
      "the system file and its drop-ins are not read then",
    );

    assert.throws(
      () => loadRegistriesConf({ file: path.join(dir, "missing.conf"), etc, home }),
      /missing\.conf: does not exist/,
    );
    fs.writeFileSync(
      path.join(etc, "registries.conf.d", "30-v1.conf"),
      '[registries.insecure]\nregistries = ["x"]\n',
    );
    assert.throws(
      () => loadRegistriesConf({ file: given, etc, home }),
      /30-v1\.conf: a drop-in file must use the version 2 format/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
