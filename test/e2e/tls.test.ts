/**
 * HTTPS: `serve --tls-cert --tls-key` with a CA the test makes with openssl.
 * skopeo, podman and containerd (through the hosts.toml the node wiring
 * writes, with `ca = …`) trusting that CA pull byte for byte; the same
 * clients without it are refused; plain HTTP on the port gets a JSON 400 and
 * no image bytes; HTTP/2 is negotiated. Bad key/cert flags are clear errors
 * naming the file, before anything starts; generate --standalone takes the
 * same flags and nginx accepts its config.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { hostsTomlFor, upstreamRoutes } from "../../src/nodes/wiring";
import { privatePodman } from "../support/podman";
import { assertSameImage, pullToDir } from "../support/skopeo";
import { makeTestCa } from "../support/tls";
import { asOtherUser, requireRoot, runAny } from "../support/tools";
import {
  CLI,
  buildFixtures,
  once,
  request,
  runClientAny,
  scratch,
  startContainerd,
  startRegistry,
  stopAll,
  tools,
} from "./harness";

after(stopAll);

const env = once(async () => {
  const fx = await buildFixtures();
  const ca = makeTestCa(scratch("tls-ca"));
  const other = makeTestCa(scratch("tls-other"), "untrusted");
  const reg = await startRegistry(fx.root, ["--tls-cert", ca.serverCert, "--tls-key", ca.serverKey]);
  // skopeo and podman take a directory of *.crt files as the CAs to trust.
  const certDir = scratch("tls-certdir");
  fs.copyFileSync(ca.caCert, path.join(certDir, "ca.crt"));
  const img = fx.images.find((i) => i.reference === "busybox:1.36");
  assert.ok(img, "the fixtures have busybox:1.36");
  return { fx, ca, other, reg, certDir, img };
});

const cli = (...args: string[]) => runAny(process.execPath, [CLI, ...args]);

describe("HTTPS", () => {
  test("curl: HTTP/2 over TLS with the CA; refused without it; plain HTTP is a JSON 400 without content", async (t) => {
    if (!tools(t, "nginx", "skopeo", "curl", "openssl")) return;
    const { ca, reg, img } = await env();
    assert.match(reg.log(), new RegExp(`registry ready at https://127\\.0\\.0\\.1:${reg.port}/v2/`));
    const blobUrl = `/v2/${img.repo}/blobs/${img.blobs[0].digest}`;
    const ok = runAny("curl", [
      "-sS",
      "--cacert",
      ca.caCert,
      "-o",
      "/dev/null",
      "-w",
      "%{http_code} %{http_version}",
      `https://127.0.0.1:${reg.port}${blobUrl}`,
    ]);
    assert.equal(ok.stdout, "200 2", ok.stderr);
    const untrusted = runAny("curl", ["-sS", "-o", "/dev/null", `https://127.0.0.1:${reg.port}/v2/`]);
    assert.equal(untrusted.status, 60, "curl: certificate not trusted");
    const plain = await request(reg.port, "GET", blobUrl);
    assert.equal(plain.status, 400);
    assert.equal(plain.headers["docker-distribution-api-version"], "registry/2.0");
    assert.equal(JSON.parse(plain.body.toString()).errors[0].code, "UNSUPPORTED");
    assert.match(plain.body.toString(), /HTTPS only/);
    assert.equal(plain.headers["docker-content-digest"], undefined, "no blob headers");
  });

  test("skopeo trusting the CA copies byte for byte; without it, it is refused", async (t) => {
    if (!tools(t, "nginx", "skopeo", "openssl")) return;
    const { reg, certDir, img } = await env();
    const dest = scratch("tls-skopeo");
    pullToDir(reg.host, img.reference, dest, { certDir });
    assertSameImage(dest, img);
    const refused = runClientAny("skopeo", ["inspect", "--raw", `docker://${reg.host}/${img.reference}`]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /x509|certificate/);
  });

  test("podman trusting the CA pulls; without it, it is refused", async (t) => {
    if (!tools(t, "nginx", "podman", "openssl")) return;
    const { reg, certDir, img } = await env();
    const { runAny: podman, policy } = privatePodman(scratch("tls-podman"));
    const ref = `${reg.host}/${img.reference}`;
    const ok = podman("ok", ["pull", "--quiet", "--cert-dir", certDir, "--signature-policy", policy, ref]);
    assert.equal(ok.status, 0, ok.stderr);
    const [info] = JSON.parse(podman("ok", ["image", "inspect", ref]).stdout) as { Digest: string }[];
    assert.equal(info.Digest, img.digest);
    const refused = podman("no", ["pull", "--quiet", "--signature-policy", policy, ref]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /x509|certificate/);
  });

  test("containerd through the node wiring's hosts.toml (https, ca = …) pulls; without the CA it is refused", async (t) => {
    if (!tools(t, "nginx", "containerd", "ctr", "openssl")) return;
    const { ca, reg, img } = await env();
    const cd = await startContainerd();
    const wire = (caFile: string) => {
      const dir = scratch("tls-hosts");
      const [route] = upstreamRoutes({ endpoint: reg.host, upstreamHost: "registry.invalid" });
      fs.mkdirSync(path.join(dir, route.host));
      const toml = hostsTomlFor(route, reg.host, { caFile });
      fs.writeFileSync(path.join(dir, route.host, "hosts.toml"), toml);
      return { dir, toml };
    };
    const trusted = wire(ca.caCert);
    assert.match(trusted.toml, new RegExp(`\\[host\\."https://${reg.host.replace(/\./g, "\\.")}"\\]`));
    assert.match(trusted.toml, /^ {2}ca = ".*ca\.crt"$/m);
    const ref = `registry.invalid/${img.reference}`;
    cd.ctr(["images", "pull", "--hosts-dir", trusted.dir, ref], "tls-ok");
    const stored = cd.ctr(["content", "get", img.digest], "tls-ok").stdout;
    assert.equal(stored, fs.readFileSync(img.manifestPath, "utf8"));

    // The same https wiring without the ca line: the system's CAs do not know ours.
    const untrusted = wire(ca.caCert);
    fs.writeFileSync(
      path.join(untrusted.dir, "registry.invalid", "hosts.toml"),
      untrusted.toml.replace(/^ {2}ca = .*\n/m, ""),
    );
    const r = runClientAny("ctr", [
      "-a",
      cd.socket,
      "-n",
      "tls-no",
      "images",
      "pull",
      "--hosts-dir",
      untrusted.dir,
      ref,
    ]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr + r.stdout, /x509|certificate/);
  });
});

describe("TLS flags", () => {
  test("a missing, mismatched or lone key/cert is a clear error naming the file", async (t) => {
    if (!tools(t, "openssl")) return;
    const a = makeTestCa(scratch("tls-flags-a"), "a");
    const b = makeTestCa(scratch("tls-flags-b"), "b");
    const root = scratch("tls-flags-root");
    const cases = [
      {
        description: "missing key",
        args: ["--tls-cert", a.serverCert, "--tls-key", "/nonexistent/key.pem"],
        want: /--tls-key \/nonexistent\/key\.pem does not exist/,
      },
      {
        description: "missing cert",
        args: ["--tls-cert", "/nonexistent/cert.pem", "--tls-key", a.serverKey],
        want: /--tls-cert \/nonexistent\/cert\.pem does not exist/,
      },
      {
        description: "cert that is a key",
        args: ["--tls-cert", a.serverKey, "--tls-key", a.serverKey],
        want: /--tls-cert .*server\.key is not a PEM certificate/,
      },
      {
        description: "key of another cert",
        args: ["--tls-cert", a.serverCert, "--tls-key", b.serverKey],
        want: /--tls-key .*tls-flags-b.*server\.key is not the private key of the certificate in --tls-cert .*tls-flags-a/,
      },
      {
        description: "key alone",
        args: ["--tls-key", a.serverKey],
        want: /--tls-cert and --tls-key go together/,
      },
    ];
    for (const c of cases) {
      for (const cmd of [
        ["serve", root, "--nginx", process.execPath],
        ["generate", root, "--standalone"],
      ]) {
        const r = cli(...cmd, ...c.args);
        assert.equal(r.status, 2, `${cmd[0]} ${c.description}: ${r.stderr}`);
        assert.match(r.stderr, c.want, `${cmd[0]} ${c.description}`);
        assert.equal(r.stdout, "", `${cmd[0]} ${c.description}: no output`);
      }
    }
  });

  test("a key the user running it cannot read is a clear error naming the file and the user", (t) => {
    if (!tools(t, "openssl", "setpriv")) return;
    if (!requireRoot(t, "reading as another user (setpriv) needs root")) return;
    const a = makeTestCa(scratch("tls-unreadable"), "a");
    const root = scratch("tls-unreadable-root");
    // Unreadable for the user running it (root reads everything: run as nobody).
    fs.chmodSync(a.serverKey, 0o600);
    // Only the test's own dirs: their parent is the machine's temp dir (chmod 0755 on it took /tmp's sticky and
    // write bits away from every other user of this machine).
    for (const d of [a.dir, root]) fs.chmodSync(d, 0o755);
    const argv = asOtherUser(65534, [
      process.execPath,
      CLI,
      "generate",
      root,
      "--standalone",
      "--tls-cert",
      a.serverCert,
      "--tls-key",
      a.serverKey,
    ]);
    const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--tls-key .*server\.key cannot be read by uid 65534 \(permission denied\)/);
  });

  test("generate --standalone --tls-cert --tls-key: a config nginx accepts, HTTPS only", async (t) => {
    if (!tools(t, "nginx", "openssl")) return;
    const ca = makeTestCa(scratch("tls-generate"));
    const { fx } = await env();
    const out = scratch("tls-generate-out");
    const run = path.join(out, "run");
    fs.mkdirSync(run);
    const r = cli(
      "generate",
      fx.root,
      "--standalone",
      "--listen",
      "127.0.0.1:5443",
      "--runtime-dir",
      run,
      "-o",
      path.join(out, "conf"),
      "--tls-cert",
      ca.serverCert,
      "--tls-key",
      ca.serverKey,
    );
    assert.equal(r.status, 0, r.stderr);
    const conf = fs.readFileSync(path.join(out, "conf", "nginx.conf"), "utf8");
    assert.match(conf, /listen 127\.0\.0\.1:5443 ssl http2;/);
    assert.match(conf, new RegExp(`ssl_certificate ${ca.serverCert.replace(/[.]/g, "\\.")};`));
    assert.match(conf, /error_page 497 =400/);
    const stdout = fs.openSync(path.join(out, "stdout"), "w");
    const check = spawnSync(
      "nginx",
      ["-t", "-c", path.join(out, "conf", "nginx.conf"), "-p", run, "-e", "stderr"],
      {
        stdio: ["ignore", stdout, "pipe"],
        encoding: "utf8",
      },
    );
    fs.closeSync(stdout);
    assert.equal(check.status, 0, check.stderr);
  });
});
