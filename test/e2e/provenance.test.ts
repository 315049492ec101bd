/**
 * Provenance across the air gap, end to end. An upstream (Debian's
 * docker-registry 2.8, reached as `upstream-p.invalid` through a
 * registries.conf) holds seven images and what refers to them, made as cosign
 * makes them but signed by openssl (Debian's skopeo and podman refuse to sign
 * with sigstore keys):
 *
 *   signed/ecdsa   signed (P-256), with an attestation and an SBOM (cosign's tag scheme)
 *   signed/multi   a multi-arch index signed by its index digest (Ed25519); its amd64 manifest signed too
 *   signed/rsa     signed (RSA), with two OCI artifacts whose `subject` it is (referrers tag schema)
 *   plain/unsigned no signature
 *   plain/foreign  signed by a key that is not given
 *   plain/moved    signed by our key, for another repository
 *   plain/swapped  signed by our key, for another image's digest
 *
 * → `mirror` carries all of it with every digest equal to upstream's, and a
 * new signature on an unchanged image on a re-run → `--verify-key` lets in
 * exactly the three signed images, one line per refused image with its reason
 * → `--no-referrers` → `check --verify-key` passes, and names the image once a
 * signature is altered → upstream stopped, `serve` (real nginx) answers every
 * carried tag by the name and digest upstream had, the referrers API with its
 * `artifactType` filter, and a verifier that reads only HTTP and checks with
 * `openssl` accepts the signed images and finds nothing valid for the others.
 *
 * The tests run in order and share the upstream and the mirrored tree.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { sha256 } from "../../src/inventory/manifest";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { parseReference } from "../../src/mirror/reference";
import { planMirror } from "../../src/mirror/plan";
import { mirrorScript } from "../../src/mirror/script";
import { provenanceArgv, VERIFY_KEYS_ENV, verifyKeysEnv } from "../../src/provenance/command";
import { provenanceTag } from "../../src/provenance/tags";
import { fixture, type FixtureImage } from "../fixtures/build";
import {
  opensslKeyPair,
  opensslSign,
  opensslVerifies,
  ociImage,
  payload,
  referrersIndex,
  signatureImage,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING,
  type KeyKind,
} from "../support/cosign";
import { pushImage, pushManifest } from "../support/registryPush";
import { pushFixture } from "../support/skopeo";
import {
  ACCEPT_ALL_MANIFESTS,
  CLI,
  buildFixtures,
  once,
  rawRequest,
  runClientAny,
  scratch,
  startReference,
  startRegistry,
  stopAll,
  tools,
  cliWithConf,
  writeRegistriesConf,
} from "./harness";

after(stopAll);

const TOOLS = ["nginx", "skopeo", "docker-registry", "openssl"];
const HOST = "upstream-p.invalid";

interface Key {
  name: string;
  kind: KeyKind;
  key: string;
  pub: string;
}

interface Upstream {
  /** Repository path on the upstream (and under HOST). */
  repo: string;
  fx: FixtureImage;
  /** The reference the list names. */
  ref: string;
  /** Why --verify-key must refuse it (undefined: it is signed by a given key). */
  refused?: RegExp;
}

/** A tag that refers to an image, as pushed upstream. */
interface Carried {
  repo: string;
  tag: string;
  digest: string;
  /** For a referrers index: the referrers' digests. */
  children: string[];
}

const env = once(async () => {
  const fx = await buildFixtures();
  const up = await startReference();
  const base = `http://${up.host}`;
  const work = scratch(`provenance-e2e-${process.pid}`);
  const key = (name: string, kind: KeyKind): Key => ({ name, kind, ...opensslKeyPair(work, name, kind) });
  const ecdsa = key("ours-ecdsa", "ecdsa-p256");
  const ed25519 = key("ours-ed25519", "ed25519");
  const rsa = key("ours-rsa", "rsa");
  const theirs = key("theirs", "ecdsa-p256");
  const trusted = [ecdsa, ed25519, rsa];

  const image = (repo: string, fxRef: string, refused?: RegExp): Upstream => ({
    repo,
    fx: fixture(fx.images, fxRef),
    ref: `${HOST}/${repo}:1.0`,
    refused,
  });
  const images = [
    image("signed/ecdsa", "busybox:1.36"),
    image("signed/multi", "multi/oci-index:1.0"),
    image("signed/rsa", "library/alpine:3.19"),
    image("plain/unsigned", "oci/app:1.0", /^refused: no signature \(no tag sha256-[a-f0-9]{64}\.sig\)$/),
    image(
      "plain/foreign",
      "oci/nomt:1.0",
      /^refused: the signature was made by none of the 3 given keys \(.*ours-ecdsa\.pub, .*ours-ed25519\.pub, .*ours-rsa\.pub\)$/,
    ),
    image(
      "plain/moved",
      "shared/base:1",
      new RegExp(
        `^refused: the signature is for the repository ${HOST}/plain/elsewhere, not ${HOST}/plain/moved \\(signed by .*ours-ecdsa\\.pub\\)$`,
      ),
    ),
    image(
      "plain/swapped",
      "shared/base:2",
      /^refused: the signature is for sha256:[a-f0-9]{64}, not for this image's sha256:[a-f0-9]{64} \(signed by .*ours-ecdsa\.pub\)$/,
    ),
  ];
  const at = (repo: string) => images.find((i) => i.repo === repo)!;
  for (const i of images) pushFixture(i.fx, up.host, `${i.repo}:1.0`);

  const carried: Carried[] = [];
  const push = async (repo: string, tag: string, img: { manifest: Buffer; blobs: Map<string, Buffer> }) => {
    const p = await pushImage(base, repo, tag, img);
    carried.push({ repo, tag, digest: p.digest, children: [] });
    return p;
  };
  /** The `.sig` of `digest`, signed by `by`, its payload naming `reference` and `signed` (the digest, unless a test lies). */
  const sign = (repo: string, digest: string, reference: string, by: Key, signed = digest) => {
    const p = payload(signed, reference);
    return push(
      repo,
      provenanceTag("signature", digest),
      signatureImage([{ payload: p, signature: opensslSign(by.key, by.kind, p, work) }]),
    );
  };
  const sigConfig = Buffer.from(
    JSON.stringify({ architecture: "", os: "", config: {}, rootfs: { type: "layers", diff_ids: [] } }),
  );

  const e = at("signed/ecdsa");
  await sign(e.repo, e.fx.digest, `${HOST}/${e.repo}`, ecdsa);
  const statement = Buffer.from(
    JSON.stringify({
      _type: "https://in-toto.io/Statement/v1",
      predicateType: "https://slsa.dev/provenance/v1",
    }),
  );
  await push(
    e.repo,
    provenanceTag("attestation", e.fx.digest),
    ociImage({
      config: sigConfig,
      configMediaType: "application/vnd.oci.image.config.v1+json",
      layers: [
        {
          mediaType: "application/vnd.dsse.envelope.v1+json",
          data: Buffer.from(
            JSON.stringify({
              payloadType: "application/vnd.in-toto+json",
              payload: statement.toString("base64"),
              signatures: [],
            }),
          ),
          annotations: { predicateType: "https://slsa.dev/provenance/v1" },
        },
      ],
    }),
  );
  await push(
    e.repo,
    provenanceTag("sbom", e.fx.digest),
    ociImage({
      config: sigConfig,
      configMediaType: "application/vnd.oci.image.config.v1+json",
      layers: [
        { mediaType: "text/spdx+json", data: Buffer.from('{"spdxVersion":"SPDX-2.3","name":"busybox"}') },
      ],
    }),
  );

  const m = at("signed/multi");
  await sign(m.repo, m.fx.digest, `${HOST}/${m.repo}:1.0`, ed25519);
  const amd64 = m.fx.children.find((c) => c.platform === "linux/amd64")!;
  await sign(m.repo, amd64.digest, `${HOST}/${m.repo}`, ecdsa);

  const r = at("signed/rsa");
  await sign(r.repo, r.fx.digest, `${HOST}/${r.repo}`, rsa);
  const subject = { mediaType: r.fx.mediaType, digest: r.fx.digest, size: r.fx.size };
  const empty = Buffer.from("{}");
  const artifacts = [
    {
      artifactType: "application/spdx+json",
      data: Buffer.from('{"spdxVersion":"SPDX-2.3","name":"alpine"}'),
    },
    { artifactType: "application/vnd.example.scan-report+json", data: Buffer.from('{"findings":[]}') },
  ];
  const referrers = [];
  for (const a of artifacts) {
    const art = ociImage({
      artifactType: a.artifactType,
      config: empty,
      configMediaType: "application/vnd.oci.empty.v1+json",
      layers: [{ mediaType: a.artifactType, data: a.data }],
      subject,
      annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" },
    });
    const p = await pushImage(base, r.repo, art.digest, art);
    referrers.push({ digest: p.digest, size: p.size, artifactType: a.artifactType });
  }
  const index = referrersIndex(referrers);
  const idx = await pushManifest(
    base,
    r.repo,
    provenanceTag("referrers", r.fx.digest),
    index,
    "application/vnd.oci.image.index.v1+json",
  );
  carried.push({
    repo: r.repo,
    tag: provenanceTag("referrers", r.fx.digest),
    digest: idx.digest,
    children: referrers.map((x) => x.digest),
  });

  await sign(at("plain/foreign").repo, at("plain/foreign").fx.digest, `${HOST}/plain/foreign`, theirs);
  await sign(at("plain/moved").repo, at("plain/moved").fx.digest, `${HOST}/plain/elsewhere`, ecdsa);
  const swapped = at("plain/swapped");
  await sign(swapped.repo, swapped.fx.digest, `${HOST}/plain/swapped`, ecdsa, e.fx.digest);

  const conf = writeRegistriesConf(path.join(work, "registries.conf"), [{ prefix: HOST, location: up.host }]);
  const list = path.join(work, "images.txt");
  fs.writeFileSync(list, images.map((i) => i.ref).join("\n") + "\n");
  return { up, base, work, conf, list, images, carried, trusted, root: path.join(work, "images") };
});

const cli = (conf: string, args: string[]) => cliWithConf(conf, args);

const fileDigest = (file: string) => sha256(fs.readFileSync(file));
const keyArgs = (keys: Key[]) => keys.flatMap((k) => ["--verify-key", k.pub]);

describe("provenance", () => {
  test("mirror carries every signature, attestation, SBOM and referrer, each digest equal to upstream's", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { up, conf, list, images, carried, root } = await env();
    const r = cli(conf, ["mirror", "--from", list, "--to", root]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^provenance copied: 7 signatures, 1 attestation, 1 SBOM, 2 referrers$/m);
    assert.match(r.stdout, /^provenance up to date: 0 signatures, 0 attestations, 0 SBOMs, 0 referrers$/m);
    assert.match(
      r.stdout,
      /copied {2}upstream-p\.invalid\/signed\/ecdsa:1\.0 -> .*\) \+ 1 signature, 1 attestation, 1 SBOM$/m,
    );
    for (const c of carried) {
      const head = await rawRequest(up.port, "HEAD", `/v2/${c.repo}/manifests/${c.tag}`, {
        accept: ACCEPT_ALL_MANIFESTS,
      });
      assert.equal(head.headers["docker-content-digest"], c.digest, `upstream serves ${c.repo}:${c.tag}`);
      const dir = path.join(root, HOST, c.repo, c.tag);
      assert.equal(
        fileDigest(path.join(dir, "manifest.json")),
        c.digest,
        `${c.repo}:${c.tag} kept its digest`,
      );
      for (const child of c.children)
        assert.equal(
          fileDigest(path.join(dir, `${child.slice(7)}.manifest.json`)),
          child,
          `${c.tag}: referrer ${child}`,
        );
    }
    for (const i of images)
      assert.equal(fileDigest(path.join(root, HOST, i.repo, "1.0", "manifest.json")), i.fx.digest);
    const check = runClientAny(process.execPath, [CLI, "check", root]);
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /no problems/);
  });

  test("a re-run fetches only what is new: a second signature on an unchanged image", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { base, work, conf, list, images, carried, trusted, root } = await env();
    const e = images.find((i) => i.repo === "signed/ecdsa")!;
    const p = payload(e.fx.digest, `${HOST}/${e.repo}`);
    // cosign adds a signature by replacing the .sig manifest with one more layer.
    const sig = signatureImage(
      [trusted[0], trusted[1]].map((k) => ({ payload: p, signature: opensslSign(k.key, k.kind, p, work) })),
    );
    const tag = provenanceTag("signature", e.fx.digest);
    const pushed = await pushImage(base, e.repo, tag, sig);
    carried.find((c) => c.tag === tag)!.digest = pushed.digest;
    const r = cli(conf, ["mirror", "--from", list, "--to", root]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`0 copied, ${images.length} skipped`));
    assert.match(r.stdout, /^provenance copied: 1 signature, 0 attestations, 0 SBOMs, 0 referrers$/m);
    assert.match(r.stdout, /^provenance up to date: 6 signatures, 1 attestation, 1 SBOM, 2 referrers$/m);
    assert.equal(fileDigest(path.join(root, HOST, e.repo, tag, "manifest.json")), pushed.digest);
  });

  test("--verify-key: exactly the signed images land; each other one is one line with its reason, and nothing of it lands", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { work, conf, list, images, trusted } = await env();
    const root = path.join(work, "verified");
    const r = cli(conf, ["mirror", "--from", list, "--to", root, ...keyArgs(trusted)]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const refused = images.filter((i) => i.refused);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, refused.length + 1, r.stderr);
    for (const [n, i] of refused.entries()) {
      const prefix = `static-container-registry: mirror ${i.ref}: `;
      assert.ok(lines[n].startsWith(prefix), lines[n]);
      assert.match(lines[n].slice(prefix.length), i.refused!, i.repo);
      assert.ok(!fs.existsSync(path.join(root, HOST, i.repo)), `nothing of ${i.repo} landed`);
    }
    assert.equal(
      lines.at(-1),
      `static-container-registry: ${refused.length} of ${images.length} image(s) failed (above)`,
    );
    for (const i of images.filter((x) => !x.refused)) {
      assert.equal(fileDigest(path.join(root, HOST, i.repo, "1.0", "manifest.json")), i.fx.digest, i.repo);
      assert.ok(fs.existsSync(path.join(root, HOST, i.repo, provenanceTag("signature", i.fx.digest))));
    }
    assert.match(r.stdout, /signed\/ecdsa:1\.0 -> .*, signed \(.*ours-ecdsa\.pub\)\)/);
    assert.match(r.stdout, /signed\/multi:1\.0 -> .*, signed \(.*ours-ed25519\.pub\)\)/);
    assert.match(r.stdout, /signed\/rsa:1\.0 -> .*, signed \(.*ours-rsa\.pub\)\)/);
    assert.match(r.stdout, /^signatures verified: 3 of 7 images \(keys: /m);
  });

  test("the mirror script the component registers fails, its output naming the reference and the reason", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { work, conf, images, trusted } = await env();
    const root = path.join(work, "scripted");
    const foreign = images.find((i) => i.repo === "plain/foreign")!;
    const [item] = planMirror([parseReference(foreign.ref)]).items;
    const skopeo = { retries: 1, registriesConf: conf };
    const script = mirrorScript(item, root, skopeo, provenanceArgv(item, root, skopeo, true));
    const keys = verifyKeysEnv(
      trusted.map((k) => ({ name: path.basename(k.pub), text: fs.readFileSync(k.pub, "utf8") })),
    );
    const r = spawnSync("sh", ["-c", script], {
      env: { ...process.env, [VERIFY_KEYS_ENV]: keys },
      encoding: "utf8",
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.equal(
      r.stderr.trim().split("\n").at(-1),
      `${foreign.ref}: refused: the signature was made by none of the 3 given keys (ours-ecdsa.pub, ours-ed25519.pub, ours-rsa.pub)`,
    );
    assert.ok(!fs.existsSync(path.join(root, HOST)), "nothing landed");
  });

  test("--no-referrers copies the images alone; it cannot go with --verify-key", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { work, conf, images, trusted } = await env();
    const root = path.join(work, "bare");
    const refs = images.slice(0, 3).map((i) => i.ref);
    const r = cli(conf, ["mirror", "--no-referrers", "--to", root, ...refs]);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /^provenance|signature/m);
    for (const i of images.slice(0, 3))
      assert.deepEqual(fs.readdirSync(path.join(root, HOST, i.repo)), ["1.0"]);
    const both = cli(conf, ["mirror", "--no-referrers", "--to", root, ...keyArgs(trusted), refs[0]]);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /--verify-key checks the signatures that --no-referrers leaves behind/);
  });

  test("check --verify-key: passes on the verified tree, names each image that does not verify", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { work, images, trusted, root } = await env();
    const verified = path.join(work, "verified");
    const ok = runClientAny(process.execPath, [CLI, "check", verified, ...keyArgs(trusted)]);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /signed {8}3 of 3 images/);
    assert.match(ok.stdout, /no problems \(every image signed\)/);
    const json = runClientAny(process.execPath, [CLI, "check", "--json", verified, ...keyArgs(trusted)]);
    const report = JSON.parse(json.stdout) as {
      signed: { image: string; key: string }[];
      problems: unknown[];
    };
    assert.deepEqual(
      report.signed.map((x) => `${x.image} ${path.basename(x.key)}`),
      [
        `${HOST}/signed/ecdsa:1.0 ours-ecdsa.pub`,
        `${HOST}/signed/multi:1.0 ours-ed25519.pub`,
        `${HOST}/signed/rsa:1.0 ours-rsa.pub`,
      ],
    );
    assert.deepEqual(report.problems, []);

    // The full tree (mirrored without keys) holds the others too.
    const all = runClientAny(process.execPath, [CLI, "check", root, ...keyArgs(trusted)]);
    assert.equal(all.status, 1);
    const named = [...all.stdout.matchAll(/^ {2}\S+: (\S+):1\.0 \(sha256:\w+\) did not verify: /gm)].map(
      (x) => x[1],
    );
    assert.deepEqual(
      named.sort(),
      images
        .filter((i) => i.refused)
        .map((i) => `${HOST}/${i.repo}`)
        .sort(),
    );

    // A signature altered on the way.
    const rsa = images.find((i) => i.repo === "signed/rsa")!;
    const file = path.join(
      verified,
      HOST,
      rsa.repo,
      provenanceTag("signature", rsa.fx.digest),
      "manifest.json",
    );
    const doc = JSON.parse(fs.readFileSync(file, "utf8"));
    const sig = Buffer.from(doc.layers[0].annotations[SIGNATURE_ANNOTATION], "base64");
    sig[sig.length - 1] ^= 0x01;
    doc.layers[0].annotations[SIGNATURE_ANNOTATION] = sig.toString("base64");
    fs.writeFileSync(file, JSON.stringify(doc));
    const bad = runClientAny(process.execPath, [CLI, "check", verified, ...keyArgs(trusted)]);
    assert.equal(bad.status, 1);
    assert.match(
      bad.stdout,
      new RegExp(
        `${HOST}/signed/rsa:1\\.0 \\(${rsa.fx.digest}\\) did not verify: the signature was made by none of the 3 given keys`,
      ),
    );
  });

  test("upstream stopped: our registry serves what upstream served, and an HTTP-only verifier agrees", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { up, work, images, carried, trusted, root } = await env();
    await up.server.stop();
    const reg = await startRegistry(root);
    const get = (p: string, headers: Record<string, string> = {}) => rawRequest(reg.port, "GET", p, headers);
    const name = (repo: string) => `${HOST}/${repo}`;

    for (const c of carried) {
      const list = JSON.parse((await get(`/v2/${name(c.repo)}/tags/list`)).body.toString()) as {
        tags: string[];
      };
      assert.ok(list.tags.includes(c.tag), `${c.tag} in ${c.repo}'s tags/list`);
      const m = await get(`/v2/${name(c.repo)}/manifests/${c.tag}`, { accept: ACCEPT_ALL_MANIFESTS });
      assert.equal(m.status, 200);
      assert.equal(m.headers["docker-content-digest"], c.digest, `${c.repo}:${c.tag}`);
      assert.equal(sha256(m.body), c.digest);
      for (const child of c.children) {
        const byDigest = await get(`/v2/${name(c.repo)}/manifests/${child}`, {
          accept: ACCEPT_ALL_MANIFESTS,
        });
        assert.equal(byDigest.status, 200, `referrer ${child} by digest`);
        assert.equal(sha256(byDigest.body), child);
      }
    }

    const rsa = images.find((i) => i.repo === "signed/rsa")!;
    const referrers = carried.find((c) => c.children.length)!.children;
    const all = await get(`/v2/${name(rsa.repo)}/referrers/${rsa.fx.digest}`);
    assert.equal(all.status, 200);
    const listed = JSON.parse(all.body.toString()) as {
      manifests: { digest: string; artifactType: string }[];
    };
    assert.deepEqual(listed.manifests.map((d) => d.digest).sort(), [...referrers].sort());
    const spdx = await get(
      `/v2/${name(rsa.repo)}/referrers/${rsa.fx.digest}?artifactType=application%2Fspdx%2Bjson`,
    );
    assert.equal(spdx.headers["oci-filters-applied"], "artifactType");
    const only = JSON.parse(spdx.body.toString()) as { manifests: { artifactType: string }[] };
    assert.deepEqual(
      only.manifests.map((d) => d.artifactType),
      ["application/spdx+json"],
    );

    /** Reads the image and its `.sig` over HTTP only; checks each signature with openssl and the payload by hand. */
    const verifyOverHttp = async (repo: string): Promise<string> => {
      const img = await get(`/v2/${name(repo)}/manifests/1.0`, { accept: ACCEPT_ALL_MANIFESTS });
      const digest = img.headers["docker-content-digest"];
      const sig = await get(`/v2/${name(repo)}/manifests/${provenanceTag("signature", digest)}`, {
        accept: ACCEPT_ALL_MANIFESTS,
      });
      if (sig.status === 404) return "no signature";
      const layers = (
        JSON.parse(sig.body.toString()) as {
          layers: { mediaType: string; digest: string; annotations: Record<string, string> }[];
        }
      ).layers;
      const found: string[] = [];
      for (const l of layers.filter((x) => x.mediaType === SIMPLE_SIGNING)) {
        const blob = await get(`/v2/${name(repo)}/blobs/${l.digest}`);
        const by = trusted.find((k) =>
          opensslVerifies(k.pub, k.kind, blob.body, l.annotations[SIGNATURE_ANNOTATION], work),
        );
        if (!by) {
          found.push("a signature by no trusted key");
          continue;
        }
        const critical = (
          JSON.parse(blob.body.toString()) as {
            critical: {
              identity: { "docker-reference": string };
              image: { "docker-manifest-digest": string };
            };
          }
        ).critical;
        const signedRepo = critical.identity["docker-reference"].replace(/:[^/]*$/, "");
        if (critical.image["docker-manifest-digest"] !== digest) found.push(`${by.name}, for another digest`);
        else if (signedRepo !== name(repo)) found.push(`${by.name}, for ${signedRepo}`);
        else return `valid: ${by.name}`;
      }
      return `nothing valid: ${found.join("; ")}`;
    };
    const verdicts = Object.fromEntries(
      await Promise.all(images.map(async (i) => [i.repo, await verifyOverHttp(i.repo)])),
    );
    assert.deepEqual(verdicts, {
      "signed/ecdsa": "valid: ours-ecdsa",
      "signed/multi": "valid: ours-ed25519",
      "signed/rsa": "valid: ours-rsa",
      "plain/unsigned": "no signature",
      "plain/foreign": "nothing valid: a signature by no trusted key",
      "plain/moved": `nothing valid: ours-ecdsa, for ${HOST}/plain/elsewhere`,
      "plain/swapped": "nothing valid: ours-ecdsa, for another digest",
    });
    for (const [repo, v] of Object.entries(verdicts)) t.diagnostic(`${repo}: ${v}`);
  });
});
