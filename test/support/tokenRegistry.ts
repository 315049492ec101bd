/**
 * A registry front that asks for credentials the way Docker Hub, ghcr.io or
 * Harbor do, in front of any registry (our own `serve`, for one): requests
 * without a token get `401` with `WWW-Authenticate: Bearer realm=…/token,
 * service=…, scope=repository:<name>:pull`; the realm hands out a token only
 * for the right basic credentials. Everything else is passed through to the
 * upstream as it is. Optionally:
 *
 * - `protect: "referrers"`: only `/v2/<name>/referrers/…` asks for a token (a
 *   registry that guards its artifacts more than its images), so a failure
 *   there is the referrers client's own, not skopeo's;
 * - `scheme: "basic"`: a `Basic` challenge instead, credentials on each request;
 * - `pageSize`: referrers answers cut into pages of that many descriptors,
 *   linked with `Link: <…?page=N>; rel="next"` as the spec paginates;
 * - `tls`: HTTPS with the given certificate.
 *
 * Each request is recorded (method, path and query, whether it carried a
 * valid credential) for the tests to check what a client did.
 *
 * Run in-process with `startTokenRegistry`, or as a process of its own (for
 * tests whose client blocks the event loop with spawnSync):
 *   node tokenRegistry.js '{"upstream":"http://127.0.0.1:5000",…}' — it prints `listening <port>`.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";

export interface TokenRegistryOptions {
  /** What it fronts: `http://host:port`. */
  upstream: string;
  username: string;
  password: string;
  protect?: "all" | "referrers";
  scheme?: "bearer" | "basic";
  pageSize?: number;
  /** PEM files. */
  tls?: { cert: string; key: string };
  port?: number;
}

export interface Recorded {
  method: string;
  url: string;
  /** The request carried a valid token (or basic credentials). */
  authorized: boolean;
}

export interface TokenRegistry {
  port: number;
  url: string;
  requests: Recorded[];
  stop: () => Promise<void>;
}

const SERVICE = "token-test";

function json(res: http.ServerResponse, status: number, doc: unknown, headers: Record<string, string> = {}) {
  const body = Buffer.from(JSON.stringify(doc));
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(body.length),
    "docker-distribution-api-version": "registry/2.0",
    ...headers,
  });
  res.end(body);
}

/** Passes the request on to the upstream; `transform` may rewrite a JSON answer (pagination). */
function pass(
  o: TokenRegistryOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  transform?: (status: number, body: Buffer) => { body: Buffer; headers: Record<string, string> } | undefined,
) {
  const target = new URL(req.url ?? "/", o.upstream);
  if (transform) target.search = "";
  const headers: http.OutgoingHttpHeaders = {};
  for (const h of ["accept", "range", "if-none-match"]) if (req.headers[h]) headers[h] = req.headers[h];
  const up = http.request(target, { method: req.method, headers, agent: false }, (ur) => {
    const keep: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(ur.headers))
      if (v !== undefined && !["connection", "keep-alive", "transfer-encoding"].includes(k)) keep[k] = v;
    if (!transform) {
      res.writeHead(ur.statusCode ?? 502, keep);
      ur.pipe(res);
      return;
    }
    const chunks: Buffer[] = [];
    ur.on("data", (c: Buffer) => chunks.push(c));
    ur.on("end", () => {
      const t = transform(ur.statusCode ?? 502, Buffer.concat(chunks));
      const body = t?.body ?? Buffer.concat(chunks);
      res.writeHead(ur.statusCode ?? 502, {
        ...keep,
        ...(t?.headers ?? {}),
        "content-length": String(body.length),
      });
      res.end(body);
    });
  });
  up.on("error", (e) => json(res, 502, { errors: [{ code: "UNKNOWN", message: `upstream: ${e.message}` }] }));
  req.pipe(up);
}

export function tokenRegistryHandler(o: TokenRegistryOptions, self: () => string, requests: Recorded[]) {
  const tokens = new Set<string>();
  const basic = `Basic ${Buffer.from(`${o.username}:${o.password}`).toString("base64")}`;
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    const auth = req.headers.authorization ?? "";
    if (url.pathname === "/token") {
      const ok = auth === basic;
      requests.push({ method: req.method ?? "", url: req.url ?? "", authorized: ok });
      if (!ok)
        return json(res, 401, {
          errors: [{ code: "UNAUTHORIZED", message: "wrong or missing credentials" }],
        });
      const token = randomBytes(16).toString("hex");
      tokens.add(token);
      return json(res, 200, { token, expires_in: 300 });
    }
    const name = /^\/v2\/(.+?)\/(?:manifests|blobs|tags|referrers)\//.exec(url.pathname)?.[1];
    const isReferrers = /^\/v2\/.+\/referrers\/sha256:[a-f0-9]{64}$/.test(url.pathname);
    const guarded = (o.protect ?? "all") === "all" || isReferrers;
    const scheme = o.scheme ?? "bearer";
    const authorized = scheme === "basic" ? auth === basic : tokens.has(auth.replace(/^Bearer /, ""));
    requests.push({ method: req.method ?? "", url: req.url ?? "", authorized });
    if (guarded && !authorized) {
      const challenge =
        scheme === "basic"
          ? `Basic realm="${SERVICE}"`
          : `Bearer realm="${self()}/token",service="${SERVICE}"${name ? `,scope="repository:${name}:pull"` : ""}`;
      return json(
        res,
        401,
        { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] },
        { "www-authenticate": challenge },
      );
    }
    if (!isReferrers || !o.pageSize) return pass(o, req, res);
    const page = Number(url.searchParams.get("page") ?? "1");
    const size = o.pageSize;
    return pass(o, req, res, (status, body) => {
      if (status !== 200) return undefined;
      const doc = JSON.parse(body.toString("utf8")) as { manifests: unknown[] };
      const all = doc.manifests;
      const headers: Record<string, string> = {};
      if (page * size < all.length) headers.link = `<${url.pathname}?page=${page + 1}>; rel="next"`;
      return {
        body: Buffer.from(JSON.stringify({ ...doc, manifests: all.slice((page - 1) * size, page * size) })),
        headers,
      };
    });
  };
}

export async function startTokenRegistry(o: TokenRegistryOptions): Promise<TokenRegistry> {
  const requests: Recorded[] = [];
  let base = "";
  const handler = tokenRegistryHandler(o, () => base, requests);
  const server = o.tls
    ? https.createServer({ cert: fs.readFileSync(o.tls.cert), key: fs.readFileSync(o.tls.key) }, handler)
    : http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  base = `${o.tls ? "https" : "http"}://127.0.0.1:${port}`;
  return {
    port,
    url: base,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (require.main === module) {
  const o = JSON.parse(process.argv[2] ?? "{}") as TokenRegistryOptions;
  void startTokenRegistry(o).then((r) => {
    process.stdout.write(`listening ${r.port}\n`);
    // Each request as one JSON line, for a test that runs this as a process.
    const log = r.requests;
    const push = log.push.bind(log);
    log.push = (...items: Recorded[]) => {
      for (const i of items) process.stdout.write(`request ${JSON.stringify(i)}\n`);
      return push(...items);
    };
    process.on("SIGTERM", () => void r.stop().then(() => process.exit(0)));
  });
}
