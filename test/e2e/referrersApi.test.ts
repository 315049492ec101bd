/**
 * OCI referrers that an upstream keeps only behind its referrers API, end to
 * end. The upstream is our own registry (`serve`, real nginx, which answers
 * `GET /v2/<name>/referrers/<digest>`) over OCI layouts whose artifacts have
 * a `subject` and no `sha256-<hex>` tag, reached as `referrers.invalid`
 * through a registries.conf location rewrite:
 *
 *   art/app    one image; an SBOM and a scan report refer to it, and a
 *              signature artifact refers to the SBOM
 *   art/multi  a multi-arch index; an attestation refers to the index, an
 *              SBOM to its amd64 manifest
 *
 * → `mirror` carries every referrer, digests equal, found through the API
 * (the upstream's log shows the API asked and no referrers tag) → a re-run
 * skips the unchanged images but fetches a new referrer, linking the others
 * → `--no-referrers` asks nothing → behind a token service (a front in
 * test/support that demands `Bearer` from a realm that wants basic
 * credentials, and pages the referrers one by one): the auth file's
 * credentials open it, also from the component's script; without them the
 * mirror fails with one line naming the host → upstream stopped, our
 * registry serving the mirrored tree lists them in the referrers API, with
 * the `artifactType` filter.
 *
 * The tests run in order and share the upstream and the mirrored tree.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { sha256 } from "../../src/inventory/manifest";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { mirrorCommandArgs } from "../../src/kubernetes/steps/mirror";
import { parseReference } from "../../src/mirror/reference";
import { planMirror } from "../../src/mirror/plan";
import { AUTH_ENV, authJsonDocument } from "../../src/mirror/script";
import { provenanceTag } from "../../src/provenance/tags";
import { fixture, type FixtureImage } from "../fixtures/build";
import { ociImage } from "../support/cosign";
import type { Recorded, TokenRegistryOptions } from "../support/tokenRegistry";
import { startProcess, type Server } from "../support/tools";
import {
  ACCEPT_ALL_MANIFESTS,
  CLI,
  buildFixtures,
  logMark,
  once,
  rawRequest,
  runClientAny,
  scratch,
  startRegistry,
  stopAll,
  tools,
  type Registry,
  cliWithConf,
  writeRegistriesConf,
} from "./harness";

after(stopAll);

const TOOLS = ["nginx", "skopeo"];
const HOST = "referrers.invalid";
const TOKEN_FRONT = path.join(__dirname, "..", "support", "tokenRegistry.js");
const hex = (d: string) => d.slice(7);
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
/** serve's nginx flushes its access log at least every second: a quiet this long means every line is in. */
const LOG_FLUSH_MS = 1500;

interface Referrer {
  repo: string;
  /** The digest it refers to. */
  subject: string;
  digest: string;
  artifactType: string;
  /** Its blobs' digests. */
  blobs: string[];
}

/** Adds a manifest and its blobs to an OCI layout, untagged (as oras and cosign v2 push a referrer). */
function addToLayout(
  layout: string,
  img: { manifest: Buffer; blobs: Map<string, Buffer> },
  artifactType: string,
) {
  const dir = path.join(layout, "blobs", "sha256");
  for (const [d, b] of img.blobs) fs.writeFileSync(path.join(dir, hex(d)), b);
  fs.writeFileSync(path.join(dir, hex(sha256(img.manifest))), img.manifest);
  const indexFile = path.join(layout, "index.json");
  const index = JSON.parse(fs.readFileSync(indexFile, "utf8")) as { manifests: unknown[] };
  index.manifests.push({
    mediaType: OCI_MANIFEST,
    digest: sha256(img.manifest),
    size: img.manifest.length,
    artifactType,
  });
  fs.writeFileSync(indexFile, JSON.stringify(index));
}

/** An OCI 1.1 artifact whose `subject` is `subject`. */
function artifact(
  artifactType: string,
  data: string,
  subject: { mediaType: string; digest: string; size: number },
) {
  return ociImage({
    artifactType,
    config: Buffer.from("{}"),
    configMediaType: "application/vnd.oci.empty.v1+json",
    layers: [{ mediaType: artifactType, data: Buffer.from(data) }],
    subject,
    annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" },
  });
}

const env = once(async () => {
  const fx = await buildFixtures();
  const work = scratch(`referrers-api-e2e-${process.pid}`);
  const upRoot = path.join(work, "upstream");
  const images: { repo: string; fx: FixtureImage; ref: string }[] = [
    { repo: "art/app", fx: fixture(fx.images, "busybox:1.36"), ref: `${HOST}/art/app:1.0` },
    { repo: "art/multi", fx: fixture(fx.images, "multi/oci-index:1.0"), ref: `${HOST}/art/multi:1.0` },
  ];
  for (const i of images) {
    const src = i.fx.source === "dir" ? `dir:${i.fx.path}` : `oci:${i.fx.path}:${i.fx.tag}`;
    const dest = path.join(upRoot, ...i.repo.split("/"));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    const r = spawnSync(
      "skopeo",
      ["--insecure-policy", "copy", "--all", "--preserve-digests", "--quiet", src, `oci:${dest}:1.0`],
      {
        encoding: "utf8",
      },
    );
    if (r.status !== 0) throw new Error(`skopeo copy to the upstream layout: ${r.stderr}`);
  }
  const referrers: Referrer[] = [];
  const refer = (
    repo: string,
    artifactType: string,
    data: string,
    subject: { mediaType: string; digest: string; size: number },
  ) => {
    const a = artifact(artifactType, data, subject);
    addToLayout(path.join(upRoot, ...repo.split("/")), a, artifactType);
    const r = { repo, subject: subject.digest, digest: a.digest, artifactType, blobs: [...a.blobs.keys()] };
    referrers.push(r);
    return { r, descriptor: { mediaType: OCI_MANIFEST, digest: a.digest, size: a.manifest.length } };
  };
  const [app, multi] = images;
  const appSubject = { mediaType: app.fx.mediaType, digest: app.fx.digest, size: app.fx.size };
  const sbom = refer(
    app.repo,
    "application/spdx+json",
    '{"spdxVersion":"SPDX-2.3","name":"app"}',
    appSubject,
  );
  refer(app.repo, "application/vnd.example.scan-report+json", '{"findings":[]}', appSubject);
  refer(
    app.repo,
    "application/vnd.dev.sigstore.bundle.v0.3+json",
    '{"bundle":"of the sbom"}',
    sbom.descriptor,
  );
  refer(multi.repo, "application/vnd.in-toto+json", '{"_type":"https://in-toto.io/Statement/v1"}', {
    mediaType: multi.fx.mediaType,
    digest: multi.fx.digest,
    size: multi.fx.size,
  });
  const amd64 = multi.fx.children.find((c) => c.platform === "linux/amd64")!;
  refer(multi.repo, "application/spdx+json", '{"spdxVersion":"SPDX-2.3","name":"multi/amd64"}', {
    mediaType: amd64.mediaType,
    digest: amd64.digest,
    size: amd64.size,
  });

  const up = await startRegistry(upRoot);
  const conf = writeRegistriesConf(path.join(work, "registries.conf"), [{ prefix: HOST, location: up.host }]);
  const list = path.join(work, "images.txt");
  fs.writeFileSync(list, images.map((i) => i.ref).join("\n") + "\n");
  // A home of its own and an empty auth file: no credentials of this machine's user take part.
  const home = path.join(work, "home");
  fs.mkdirSync(home);
  const noAuth = path.join(work, "no-auth.json");
  fs.writeFileSync(noAuth, '{"auths":{}}');
  return {
    fx,
    work,
    upRoot,
    up,
    conf,
    list,
    images,
    referrers,
    home,
    noAuth,
    root: path.join(work, "images"),
  };
});

function cli(conf: string, args: string[], authFile?: string) {
  return env().then(({ home, noAuth }) =>
    cliWithConf(conf, args, { HOME: home, REGISTRY_AUTH_FILE: authFile ?? noAuth }),
  );
}

const fileDigest = (file: string) => sha256(fs.readFileSync(file));
const refDir = (root: string, r: Referrer) =>
  path.join(root, HOST, ...r.repo.split("/"), provenanceTag("referrers", r.subject));

/** Every referrer is in `root` beside its subject's index, byte for byte, with its blobs. */
function assertCarried(root: string, referrers: readonly Referrer[]) {
  for (const r of referrers) {
    const dir = refDir(root, r);
    assert.equal(
      fileDigest(path.join(dir, `${hex(r.digest)}.manifest.json`)),
      r.digest,
      `${r.repo}: ${r.artifactType}`,
    );
    for (const b of r.blobs)
      assert.equal(fileDigest(path.join(dir, hex(b))), b, `${r.artifactType}: blob ${b}`);
    const index = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as {
      manifests: { digest: string; artifactType?: string }[];
    };
    const listed = index.manifests.find((m) => m.digest === r.digest);
    assert.equal(listed?.artifactType, r.artifactType, `${r.digest} listed in its subject's index`);
  }
}

/**
 * The upstream's pull-log requests after `mark` asking for `what`, each as
 * "METHOD URI STATUS" (serve logs one JSON object per request).
 */
const logged = (up: Registry, mark: number, what: RegExp) =>
  up
    .log()
    .slice(mark)
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => {
      const r = JSON.parse(l) as { method: string; request: string; status: number };
      return `${r.method} ${r.request} ${r.status}`;
    })
    .filter((l) => what.test(l));

async function waitFor(what: string, ok: () => Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The token front as a process of its own (the CLI runs with spawnSync, which blocks this process). */
async function startFront(
  o: TokenRegistryOptions,
): Promise<{ port: number; server: Server; requests: () => Recorded[] }> {
  const server = startProcess(process.execPath, [TOKEN_FRONT, JSON.stringify(o)]);
  await waitFor("the token front", async () => /listening \d+/.test(server.output()));
  const port = Number(/listening (\d+)/.exec(server.output())![1]);
  const requests = () =>
    server
      .output()
      .split("\n")
      .filter((l) => l.startsWith("request "))
      .map((l) => JSON.parse(l.slice("request ".length)) as Recorded);
  return { port, server, requests };
}

describe("referrers behind the referrers API", () => {
  test("mirror finds them through the API (the upstream has no sha256-<hex> tag) and carries each, digests equal", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { up, conf, list, images, referrers, root } = await env();
    for (const i of images) {
      const tags = JSON.parse(
        (await rawRequest(up.port, "GET", `/v2/${i.repo}/tags/list`)).body.toString(),
      ) as { tags: string[] };
      assert.deepEqual(tags.tags, ["1.0"], `${i.repo}: the upstream lists no referrers tag`);
    }
    const mark = await logMark(up, LOG_FLUSH_MS);
    const r = await cli(conf, ["mirror", "--from", list, "--to", root]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^provenance copied: 0 signatures, 0 attestations, 0 SBOMs, 5 referrers$/m);
    assert.match(r.stdout, /copied {2}referrers\.invalid\/art\/app:1\.0 -> .*\) \+ 3 referrers$/m);
    assertCarried(root, referrers);
    for (const i of images)
      assert.equal(
        fileDigest(path.join(root, HOST, ...i.repo.split("/"), "1.0", "manifest.json")),
        i.fx.digest,
      );
    await logMark(up, LOG_FLUSH_MS);
    const app = images[0];
    assert.ok(
      logged(up, mark, new RegExp(`GET /v2/art/app/referrers/${app.fx.digest}`)).length > 0,
      "the referrers API was asked",
    );
    assert.deepEqual(
      logged(up, mark, new RegExp(`/manifests/${provenanceTag("referrers", app.fx.digest)}[ ?]`)),
      [],
      "no referrers tag was looked for: the API answered",
    );
    const check = runClientAny(process.execPath, [CLI, "check", root]);
    assert.equal(check.status, 0, check.stdout + check.stderr);
  });

  test("a re-run skips the unchanged images, fetches a new referrer and links the others", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { up, upRoot, conf, list, images, referrers, root } = await env();
    const app = images[0];
    const inodes = new Map(
      referrers.map((r) => [
        r.digest,
        fs.statSync(path.join(refDir(root, r), `${hex(r.digest)}.manifest.json`)).ino,
      ]),
    );
    const report = artifact("application/vnd.example.scan-report+json", '{"findings":["CVE-0000-0001"]}', {
      mediaType: app.fx.mediaType,
      digest: app.fx.digest,
      size: app.fx.size,
    });
    addToLayout(path.join(upRoot, "art", "app"), report, "application/vnd.example.scan-report+json");
    process.kill(up.server.pid, "SIGHUP");
    await waitFor("the upstream to list the new referrer", async () => {
      const a = await rawRequest(up.port, "GET", `/v2/art/app/referrers/${app.fx.digest}`);
      return a.status === 200 && a.body.toString().includes(report.digest);
    });
    referrers.push({
      repo: app.repo,
      subject: app.fx.digest,
      digest: report.digest,
      artifactType: "application/vnd.example.scan-report+json",
      blobs: [...report.blobs.keys()],
    });

    const r = await cli(conf, ["mirror", "--from", list, "--to", root]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /0 copied, 2 skipped \(up to date\)/);
    assert.match(r.stdout, /^provenance copied: 0 signatures, 0 attestations, 0 SBOMs, 1 referrer$/m);
    assert.match(r.stdout, /^provenance up to date: 0 signatures, 0 attestations, 0 SBOMs, 5 referrers$/m);
    assertCarried(root, referrers);
    for (const [digest, ino] of inodes) {
      const ref = referrers.find((x) => x.digest === digest)!;
      assert.equal(
        fs.statSync(path.join(refDir(root, ref), `${hex(digest)}.manifest.json`)).ino,
        ino,
        `${digest} linked, not fetched`,
      );
    }

    const again = await cli(conf, ["mirror", "--from", list, "--to", root]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /^provenance copied: 0 signatures, 0 attestations, 0 SBOMs, 0 referrers$/m);
    assert.match(
      again.stdout,
      /^provenance up to date: 0 signatures, 0 attestations, 0 SBOMs, 6 referrers$/m,
    );
  });

  test("--no-referrers asks the referrers API nothing and carries none", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { up, work, conf, list, images } = await env();
    const root = path.join(work, "bare");
    const mark = await logMark(up, LOG_FLUSH_MS); // the lines of the runs before are all in
    const r = await cli(conf, ["mirror", "--no-referrers", "--from", list, "--to", root]);
    assert.equal(r.status, 0, r.stderr);
    for (const i of images)
      assert.deepEqual(fs.readdirSync(path.join(root, HOST, ...i.repo.split("/"))), ["1.0"]);
    await logMark(up, LOG_FLUSH_MS);
    assert.deepEqual(logged(up, mark, /\/referrers\//), []);
  });

  test("behind a token service: the auth file's credentials open it (also from the component's script); without them, one line naming the host", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { up, work, list, images, referrers, noAuth } = await env();
    const creds = { username: "robot", password: "s3cret" };
    const front = await startFront({ upstream: `http://${up.host}`, ...creds, pageSize: 1 });
    try {
      const host = `127.0.0.1:${front.port}`;
      const conf = path.join(work, "token.conf");
      fs.writeFileSync(conf, `[[registry]]\nprefix = "${HOST}"\nlocation = "${host}"\ninsecure = true\n`);
      const authFile = path.join(work, "auth.json");
      fs.writeFileSync(authFile, authJsonDocument({ [host]: creds }));

      const root = path.join(work, "behind-token");
      const ok = await cli(conf, ["mirror", "--retries", "0", "--from", list, "--to", root], authFile);
      assert.equal(ok.status, 0, ok.stdout + ok.stderr);
      assertCarried(root, referrers);
      const reqs = front.requests();
      assert.ok(
        reqs.some(
          (q) =>
            q.url.startsWith("/token?") &&
            q.authorized &&
            q.url.includes("scope=repository%3Aart%2Fapp%3Apull"),
        ),
      );
      const app = images[0];
      const pages = reqs.filter(
        (q) => q.url.startsWith(`/v2/art/app/referrers/${app.fx.digest}`) && q.authorized,
      );
      assert.deepEqual(
        pages.map((q) => q.url.replace(/^[^?]*/, "")).filter((v, i, a) => a.indexOf(v) === i),
        ["", "?page=2", "?page=3"],
        "every page of the three referrers, each with the token",
      );

      const denied = await cli(
        conf,
        ["mirror", "--retries", "0", "--from", list, "--to", path.join(work, "denied")],
        noAuth,
      );
      assert.equal(denied.status, 1, denied.stdout + denied.stderr);
      // Here skopeo's copy is refused first (its message names the reference, not where it went).
      const lines = denied.stderr.trim().split("\n");
      for (const i of images) {
        const line = lines.find((l) => l.startsWith(`static-container-registry: mirror ${i.ref}: `));
        assert.ok(line, `a line for ${i.ref}:\n${denied.stderr}`);
        assert.match(line, /unauthorized: wrong or missing credentials/);
      }
      assert.ok(!fs.existsSync(path.join(work, "denied", HOST)), "nothing landed");

      // The component's command: the credentials arrive as its environment's auth.json document.
      const scripted = path.join(work, "scripted");
      const [item] = planMirror([parseReference(images[0].ref)]).items;
      const args = mirrorCommandArgs(item, scripted, { retries: 0, registriesConf: conf });
      const s = spawnSync("sh", ["-c", args.create as string], {
        env: {
          ...process.env,
          HOME: path.join(work, "home"),
          [AUTH_ENV]: authJsonDocument({ [host]: creds }),
        },
        encoding: "utf8",
      });
      assert.equal(s.status, 0, s.stdout + s.stderr);
      assertCarried(
        scripted,
        referrers.filter((r) => r.repo === "art/app"),
      );
    } finally {
      await front.server.stop();
    }
  });

  test("a referrers API that alone asks for credentials: without them the referrers client fails, naming the host, and the image does not land", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { up, work, images, noAuth } = await env();
    const front = await startFront({
      upstream: `http://${up.host}`,
      username: "robot",
      password: "s3cret",
      protect: "referrers",
    });
    try {
      const host = `127.0.0.1:${front.port}`;
      const conf = path.join(work, "guarded.conf");
      fs.writeFileSync(conf, `[[registry]]\nprefix = "${HOST}"\nlocation = "${host}"\ninsecure = true\n`);
      const root = path.join(work, "guarded");
      const app = images[0];
      const r = await cli(conf, ["mirror", "--retries", "0", "--to", root, app.ref], noAuth);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.equal(
        r.stderr.trim().split("\n")[0],
        `static-container-registry: mirror ${app.ref}: looking up the referrers of ${app.fx.digest} at ${host} ` +
          `(the location of ${HOST} in registries.conf): the token service http://${host}/token refused anonymous access ` +
          `(no credentials found): 401 UNAUTHORIZED: wrong or missing credentials`,
      );
      assert.ok(!fs.existsSync(path.join(root, HOST, "art", "app", "1.0")), "the image did not land");
    } finally {
      await front.server.stop();
    }
  });

  test("upstream stopped: our registry lists the carried referrers in its referrers API, artifactType filter included", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { up, images, referrers, root } = await env();
    await up.server.stop();
    const reg = await startRegistry(root);
    const get = (p: string, headers: Record<string, string> = {}) => rawRequest(reg.port, "GET", p, headers);
    const name = (repo: string) => `${HOST}/${repo}`;
    const subjects = [...new Set(referrers.map((r) => `${r.repo} ${r.subject}`))];
    for (const s of subjects) {
      const [repo, subject] = s.split(" ");
      const a = await get(`/v2/${name(repo)}/referrers/${subject}`);
      assert.equal(a.status, 200);
      const listed = (
        JSON.parse(a.body.toString()) as { manifests: { digest: string; artifactType: string }[] }
      ).manifests;
      const want = referrers.filter((r) => r.repo === repo && r.subject === subject);
      assert.deepEqual(
        listed.map((d) => `${d.digest} ${d.artifactType}`).sort(),
        want.map((r) => `${r.digest} ${r.artifactType}`).sort(),
        `the referrers of ${subject} in ${repo}`,
      );
    }
    for (const r of referrers) {
      const m = await get(`/v2/${name(r.repo)}/manifests/${r.digest}`, { accept: ACCEPT_ALL_MANIFESTS });
      assert.equal(m.status, 200, `${r.digest} by digest`);
      assert.equal(m.headers["docker-content-digest"], r.digest);
      assert.equal(sha256(m.body), r.digest);
      for (const b of r.blobs) assert.equal(sha256((await get(`/v2/${name(r.repo)}/blobs/${b}`)).body), b);
    }
    const app = images[0];
    const spdx = await get(
      `/v2/${name(app.repo)}/referrers/${app.fx.digest}?artifactType=application%2Fspdx%2Bjson`,
    );
    assert.equal(spdx.headers["oci-filters-applied"], "artifactType");
    assert.deepEqual(
      (JSON.parse(spdx.body.toString()) as { manifests: { digest: string }[] }).manifests.map(
        (d) => d.digest,
      ),
      referrers
        .filter((r) => r.subject === app.fx.digest && r.artifactType === "application/spdx+json")
        .map((r) => r.digest),
    );
  });
});
