/**
 * The registry client and the referrers API lookup against real HTTP(S)
 * servers on loopback: a small upstream answering the referrers API, behind
 * the token front of test/support/tokenRegistry.ts. What a user would see:
 * the referrers listed through every page, the token flow with the auth
 * file's credentials, a clear failure naming the host without them (or when
 * it cannot be reached, or does not answer in time), registries.conf
 * rewrites and mirrors, and TLS trusted through certs.d only.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { authJsonDocument } from "../../src/mirror/script";
import { parseRegistriesConf } from "../../src/mirror/registriesConf";
import { RegistryClient, type ClientOptions } from "../../src/mirror/registryClient";
import { ReferrersApi, referrersIndexBytes } from "../../src/provenance/referrersApi";
import { startTokenRegistry, type TokenRegistry } from "../support/tokenRegistry";
import { makeTestCa } from "../support/tls";
import { freePort, requireTool, tmpDir } from "../support/tools";

const D = (c: string) => `sha256:${c.repeat(64)}`;
const SUBJECT = D("a");
const REFERRERS = [
  {
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: D("3"),
    size: 10,
    artifactType: "application/spdx+json",
  },
  {
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: D("1"),
    size: 11,
    artifactType: "text/x-report",
  },
  {
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: D("2"),
    size: 12,
    annotations: { "org.example": "x" },
  },
];

interface Upstream {
  url: string;
  port: number;
  hits: string[];
  server: http.Server;
}

/** Answers /v2/, the referrers of SUBJECT in `app` (with OCI-Filters-Applied in `filtered`), and 404 elsewhere. */
async function startUpstream(): Promise<Upstream> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? "");
    const send = (status: number, doc: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(doc));
    };
    if (req.url === "/v2/") return send(200, {});
    const m = /^\/v2\/(app|filtered)\/referrers\/(sha256:[a-f0-9]{64})$/.exec(req.url ?? "");
    if (m && m[2] === SUBJECT)
      return send(
        200,
        { schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: REFERRERS },
        m[1] === "filtered" ? { "oci-filters-applied": "artifactType" } : {},
      );
    return send(404, { errors: [{ code: "NAME_UNKNOWN", message: "no such route" }] });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, hits, server };
}

let work: string;
let upstream: Upstream;
const fronts: TokenRegistry[] = [];
before(async () => {
  work = tmpDir("registry-client");
  upstream = await startUpstream();
});
after(async () => {
  for (const f of fronts) await f.stop();
  upstream.server.closeAllConnections();
  await new Promise((r) => upstream.server.close(r));
  fs.rmSync(work, { recursive: true, force: true });
});

async function front(o: Partial<Parameters<typeof startTokenRegistry>[0]> = {}): Promise<TokenRegistry> {
  const f = await startTokenRegistry({ upstream: upstream.url, username: "robot", password: "s3cret", ...o });
  fronts.push(f);
  return f;
}

let files = 0;
/** Client options: a registries.conf text (may be empty) and the auth file's entries. */
function options(
  conf: string,
  creds: Record<string, { username: string; password: string }>,
  extra: Partial<ClientOptions> = {},
): { client: RegistryClient; authFile: string } {
  const n = ++files;
  const home = path.join(work, `home-${n}`);
  fs.mkdirSync(home);
  const authFile = path.join(work, `auth-${n}.json`);
  fs.writeFileSync(authFile, authJsonDocument(creds));
  const o: ClientOptions = {
    env: { REGISTRY_AUTH_FILE: authFile },
    home,
    retries: 0,
    certDirs: [],
    ...extra,
  };
  const client = new RegistryClient(
    { registries: parseRegistriesConf(conf, "test.conf"), files: ["test.conf"] },
    o,
  );
  return { client, authFile };
}

const digests = (r: Awaited<ReturnType<ReferrersApi["list"]>>) =>
  r.api ? r.descriptors.map((d) => d.digest) : "no API";

describe("the referrers API through the registry client", () => {
  test("bearer token from the auth file's credentials; every page followed", async () => {
    const f = await front({ pageSize: 1 });
    const host = `127.0.0.1:${f.port}`;
    // This front speaks plain HTTP: registries.conf must say insecure.
    const { client } = options(`[[registry]]\nlocation = "${host}"\ninsecure = true\n`, {
      [host]: { username: "robot", password: "s3cret" },
    });
    const r = await new ReferrersApi(client, `${host}/app`).list(SUBJECT);
    assert.deepEqual(
      digests(r),
      REFERRERS.map((d) => d.digest),
    );
    const pages = f.requests.filter((q) => q.url.includes("/referrers/"));
    assert.deepEqual(
      pages.filter((q) => q.authorized).map((q) => q.url.replace(/^.*\?/, "?").replace(/^\/v2.*/, "")),
      ["", "?page=2", "?page=3"],
      "three pages, each with the token",
    );
    const token = f.requests.find((q) => q.url.startsWith("/token"));
    assert.ok(token?.authorized, "the token was asked for with the credentials");
    const params = new URL(token!.url, "http://x").searchParams;
    assert.equal(params.get("scope"), "repository:app:pull");
    assert.equal(params.get("service"), "token-test");
    assert.equal(params.get("account"), "robot");
    assert.deepEqual(
      JSON.parse(referrersIndexBytes(r.api ? r.descriptors : []).toString()).manifests.map(
        (d: { digest: string }) => d.digest,
      ),
      [D("1"), D("2"), D("3")],
      "the stored index lists them in digest order",
    );
  });

  test("through a registries.conf location rewrite; without credentials, one line naming the host", async () => {
    const f = await front();
    const conf = `[[registry]]\nprefix = "art.invalid"\nlocation = "127.0.0.1:${f.port}"\ninsecure = true\n`;
    const ok = options(conf, { [`127.0.0.1:${f.port}`]: { username: "robot", password: "s3cret" } });
    assert.deepEqual(
      digests(await new ReferrersApi(ok.client, "art.invalid/app").list(SUBJECT)),
      REFERRERS.map((d) => d.digest),
    );

    const none = options(conf, {});
    await assert.rejects(new ReferrersApi(none.client, "art.invalid/app").list(SUBJECT), (e: Error) => {
      assert.equal(
        e.message,
        `looking up the referrers of ${SUBJECT} at 127.0.0.1:${f.port} (the location of art.invalid in registries.conf): ` +
          `the token service http://127.0.0.1:${f.port}/token refused anonymous access (no credentials found): 401 UNAUTHORIZED: wrong or missing credentials`,
      );
      return true;
    });
    const wrong = options(conf, { [`127.0.0.1:${f.port}`]: { username: "robot", password: "nope" } });
    await assert.rejects(
      new ReferrersApi(wrong.client, "art.invalid/app").list(SUBJECT),
      new RegExp(
        `token service .* refused the credentials from ${wrong.authFile.replace(/[.]/g, "\\.")} \\(127\\.0\\.0\\.1:${f.port}\\)`,
      ),
    );
  });

  test("a Basic challenge: the credentials on each request; refused ones name the file they came from", async () => {
    const f = await front({ scheme: "basic" });
    const conf = `[[registry]]\nlocation = "127.0.0.1:${f.port}"\ninsecure = true\n`;
    const ok = options(conf, { [`127.0.0.1:${f.port}`]: { username: "robot", password: "s3cret" } });
    assert.deepEqual(
      digests(await new ReferrersApi(ok.client, `127.0.0.1:${f.port}/app`).list(SUBJECT)).length,
      3,
    );
    const bad = options(conf, { [`127.0.0.1:${f.port}`]: { username: "robot", password: "nope" } });
    await assert.rejects(
      new ReferrersApi(bad.client, `127.0.0.1:${f.port}/app`).list(SUBJECT),
      /refused access to \/v2\/app\/ with the credentials from .*auth-\d+\.json \(127\.0\.0\.1:\d+\): 401 UNAUTHORIZED/,
    );
  });

  test("no referrers API (404): the caller is told to use the tag schema, and is not asked again", async () => {
    const conf = `[[registry]]\nlocation = "127.0.0.1:${upstream.port}"\ninsecure = true\n`;
    const { client } = options(conf, {});
    const api = new ReferrersApi(client, `127.0.0.1:${upstream.port}/none`);
    const before = upstream.hits.length;
    assert.deepEqual(await api.list(SUBJECT), { api: false });
    assert.deepEqual(await api.list(D("b")), { api: false });
    assert.equal(upstream.hits.filter((h, i) => i >= before && h.includes("/referrers/")).length, 1);
  });

  test("OCI-Filters-Applied on an unfiltered request is a warning: the list may be short", async () => {
    const conf = `[[registry]]\nlocation = "127.0.0.1:${upstream.port}"\ninsecure = true\n`;
    const r = await new ReferrersApi(options(conf, {}).client, `127.0.0.1:${upstream.port}/filtered`).list(
      SUBJECT,
    );
    assert.ok(r.api);
    assert.match(r.warnings.join("\n"), /applied filters \(artifactType\) .* the list may be incomplete/);
  });

  test("mirrors first: one that cannot be reached or refuses is passed over; when none answers, each is named", async () => {
    const dead = await freePort();
    const conf = [
      `[[registry]]`,
      `prefix = "m.invalid"`,
      `location = "127.0.0.1:${upstream.port}"`,
      `insecure = true`,
      `[[registry.mirror]]`,
      `location = "127.0.0.1:${dead}/cache"`,
      `insecure = true`,
      ``,
    ].join("\n");
    const before = upstream.hits.length;
    const r = await new ReferrersApi(options(conf, {}).client, "m.invalid/app").list(SUBJECT);
    assert.deepEqual(digests(r).length, 3);
    assert.ok(
      upstream.hits.slice(before).includes(`/v2/app/referrers/${SUBJECT}`),
      "the primary location answered",
    );

    // A mirror that refuses (no credentials for it) is passed over too.
    const guarded = await front();
    const refusing = conf.replace(`127.0.0.1:${dead}/cache`, `127.0.0.1:${guarded.port}/cache`);
    assert.equal(
      digests(await new ReferrersApi(options(refusing, {}).client, "m.invalid/app").list(SUBJECT)).length,
      3,
    );
    assert.ok(
      guarded.requests.some((q) => q.url.startsWith("/token")),
      "the mirror was asked first",
    );

    const dead2 = await freePort();
    const allDead = `[[registry]]\nprefix = "m.invalid"\nlocation = "127.0.0.1:${dead2}"\n[[registry.mirror]]\nlocation = "127.0.0.1:${dead}"\n`;
    await assert.rejects(
      new ReferrersApi(options(allDead, {}).client, "m.invalid/app").list(SUBJECT),
      (e: Error) => {
        assert.match(
          e.message,
          new RegExp(
            `at 127\\.0\\.0\\.1:${dead} \\(a mirror of m\\.invalid in registries\\.conf\\): not reachable as a registry .*ECONNREFUSED`,
          ),
        );
        assert.match(
          e.message,
          new RegExp(
            `at 127\\.0\\.0\\.1:${dead2} \\(the location of m\\.invalid in registries\\.conf\\): not reachable`,
          ),
        );
        return true;
      },
    );
  });

  test("a registry that never answers fails within the time limit, naming the host", async () => {
    const sockets: import("node:net").Socket[] = [];
    const silent = http.createServer(() => undefined);
    silent.on("connection", (s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const port = (silent.address() as AddressInfo).port;
    try {
      const { client } = options(
        `[[registry]]\nlocation = "127.0.0.1:${port}"\ninsecure = true\n`,
        {},
        { timeoutMs: 300 },
      );
      const started = Date.now();
      await assert.rejects(
        new ReferrersApi(client, `127.0.0.1:${port}/app`).list(SUBJECT),
        new RegExp(`127\\.0\\.0\\.1:${port}.*no answer within`),
      );
      assert.ok(Date.now() - started < 10_000);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  test("TLS: trusted through certs.d/<host:port>/*.crt, refused without it; plain HTTP only when insecure", async (t) => {
    if (!requireTool(t, "openssl")) return;
    const ca = makeTestCa(path.join(work, "ca"));
    const f = await front({ tls: { cert: ca.serverCert, key: ca.serverKey } });
    const host = `127.0.0.1:${f.port}`;
    const certsD = path.join(work, "certs.d");
    fs.mkdirSync(path.join(certsD, host), { recursive: true });
    fs.copyFileSync(ca.caCert, path.join(certsD, host, "ca.crt"));
    const creds = { [host]: { username: "robot", password: "s3cret" } };
    const trusted = options("", creds, { certDirs: [certsD] });
    assert.equal(digests(await new ReferrersApi(trusted.client, `${host}/app`).list(SUBJECT)).length, 3);

    const untrusted = options("", creds);
    await assert.rejects(
      new ReferrersApi(untrusted.client, `${host}/app`).list(SUBJECT),
      new RegExp(
        `at ${host.replace(/[.]/g, "\\.")}: not reachable as a registry \\(https: https://${host.replace(/[.]/g, "\\.")}: .*certificate`,
      ),
    );
    // A plain-HTTP registry is not spoken to unless registries.conf says insecure.
    const plain = options("", {});
    await assert.rejects(
      new ReferrersApi(plain.client, `127.0.0.1:${upstream.port}/app`).list(SUBJECT),
      /not reachable as a registry \(https: /,
    );
  });
  test("through HTTPS_PROXY / HTTP_PROXY: CONNECT for https, absolute URIs for http; the proxy resolves the name", async (t) => {
    if (!requireTool(t, "openssl")) return;
    // A forward proxy that sends every host to 127.0.0.1: the client itself cannot resolve registry.test.
    const seen: string[] = [];
    const proxy = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const target = new URL(req.url ?? "");
      const up = http.request(
        {
          host: "127.0.0.1",
          port: target.port,
          method: req.method,
          path: target.pathname + target.search,
          headers: req.headers,
        },
        (ur) => {
          res.writeHead(ur.statusCode ?? 502, ur.headers);
          ur.pipe(res);
        },
      );
      req.pipe(up);
    });
    proxy.on("connect", (req, socket: net.Socket) => {
      seen.push(`CONNECT ${req.url}`);
      const port = Number((req.url ?? "").split(":").pop());
      const up = net.connect(port, "127.0.0.1", () => {
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        up.pipe(socket);
        socket.pipe(up);
      });
      up.on("error", () => socket.destroy());
      socket.on("error", () => up.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const ca = makeTestCa(path.join(work, "ca-proxy"));
      const secure = await front({ tls: { cert: ca.serverCert, key: ca.serverKey } });
      const plain = await front();
      const conf = [
        `[[registry]]\nlocation = "registry.test:${secure.port}"\ninsecure = true`,
        `[[registry]]\nlocation = "plain.test:${plain.port}"\ninsecure = true`,
        ``,
      ].join("\n");
      const creds = {
        [`registry.test:${secure.port}`]: { username: "robot", password: "s3cret" },
        [`plain.test:${plain.port}`]: { username: "robot", password: "s3cret" },
      };
      const n = ++files;
      const authFile = path.join(work, `auth-${n}.json`);
      fs.writeFileSync(authFile, authJsonDocument(creds));
      const client = new RegistryClient(
        { registries: parseRegistriesConf(conf, "t"), files: [] },
        {
          env: { REGISTRY_AUTH_FILE: authFile, HTTPS_PROXY: proxyUrl, HTTP_PROXY: proxyUrl },
          home: work,
          retries: 0,
          certDirs: [],
        },
      );
      assert.equal(
        digests(await new ReferrersApi(client, `registry.test:${secure.port}/app`).list(SUBJECT)).length,
        3,
      );
      assert.ok(seen.includes(`CONNECT registry.test:${secure.port}`), seen.join("\n"));
      assert.equal(
        digests(await new ReferrersApi(client, `plain.test:${plain.port}/app`).list(SUBJECT)).length,
        3,
      );
      assert.ok(
        seen.includes(`GET http://plain.test:${plain.port}/v2/app/referrers/${SUBJECT}`),
        seen.join("\n"),
      );
      // The token realms are on 127.0.0.1: loopback goes direct, as in Go.
      assert.ok(!seen.some((l) => l.includes("/token")), seen.join("\n"));
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });
});
