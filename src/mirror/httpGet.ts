/**
 * One HTTP(S) request to an upstream registry with node:http / node:https:
 * the TLS trust given (CAs, client certificate, or no verification for an
 * `insecure` registry), a time limit on connecting and on each wait for
 * data, a cap on the body (registry answers here are small JSON documents),
 * and redirects followed (a few; `Authorization` dropped when one leaves the
 * origin, as Go's client does). Through an HTTP proxy when one is given
 * (proxy.ts decides): plain HTTP as an absolute-URI request to it, HTTPS in
 * a `CONNECT` tunnel, TLS to the registry inside. No connection is kept open
 * after the answer, so a finished process exits at once.
 */
import * as http from "node:http";
import * as https from "node:https";
import type * as net from "node:net";
import * as tls from "node:tls";

export interface HttpOptions {
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** TLS: CA certificates (PEM); default Node's. */
  ca?: string[];
  clientCert?: { cert: string; key: string };
  /** Skip certificate verification (registries.conf `insecure = true`). */
  insecure?: boolean;
  /** Connect and idle limit, ms. */
  timeoutMs: number;
  /** Largest body read, bytes. */
  maxBytes?: number;
  /** Redirects followed (default 5). */
  redirects?: number;
  /** The proxy for a URL, or undefined to connect directly (proxy.ts's proxyFor). */
  proxy?: (url: URL) => URL | undefined;
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The URL that answered (after redirects). */
  url: URL;
}

/** A request that got no HTTP answer (connection, TLS, timeout, body too large); `code` is Node's error code when there is one. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = "TransportError";
  }
}

const DEFAULT_MAX = 16 * 1024 * 1024;

function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const userPass = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { "proxy-authorization": `Basic ${Buffer.from(userPass).toString("base64")}` };
}

/** A socket to `target` through `proxy`'s CONNECT. */
function tunnel(proxy: URL, target: URL, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const port = target.port || "443";
    const req = (proxy.protocol === "https:" ? https : http).request({
      host: proxy.hostname,
      port: proxy.port || (proxy.protocol === "https:" ? 443 : 80),
      method: "CONNECT",
      path: `${target.hostname}:${port}`,
      headers: { host: `${target.hostname}:${port}`, ...proxyAuthorization(proxy) },
      agent: false,
      timeout: timeoutMs,
    });
    req.on("connect", (res, socket) => {
      if (res.statusCode === 200) resolve(socket);
      else {
        socket.destroy();
        reject(
          new TransportError(
            `the proxy ${proxy.host} refused to connect to ${target.host}: ${res.statusCode}`,
          ),
        );
      }
    });
    req.on("timeout", () =>
      req.destroy(new TransportError(`the proxy ${proxy.host} did not answer`, "ETIMEDOUT")),
    );
    req.on("error", (e) =>
      reject(new TransportError(`the proxy ${proxy.host}: ${e.message}`, (e as NodeJS.ErrnoException).code)),
    );
    req.end();
  });
}

async function once(url: URL, o: HttpOptions): Promise<HttpAnswer> {
  const secure = url.protocol === "https:";
  const proxy = o.proxy?.(url);
  const options: https.RequestOptions = {
    method: o.method ?? "GET",
    headers: { "user-agent": "static-container-registry", ...o.headers },
    agent: false,
    timeout: o.timeoutMs,
  };
  const tlsOptions: tls.ConnectionOptions = {};
  if (secure) {
    if (o.ca) tlsOptions.ca = o.ca;
    if (o.clientCert) {
      tlsOptions.cert = o.clientCert.cert;
      tlsOptions.key = o.clientCert.key;
    }
    tlsOptions.rejectUnauthorized = !o.insecure;
    Object.assign(options, tlsOptions);
  }
  let target: URL | string = url;
  if (proxy && secure) {
    const socket = await tunnel(proxy, url, o.timeoutMs);
    const servername = /^[\d.]+$|^\[/.test(url.hostname) ? undefined : url.hostname;
    // An agent of its own whose one connection is the tunnel (a request's own createConnection is not used with an agent).
    const agent = new https.Agent({ keepAlive: false });
    agent.createConnection = () => tls.connect({ ...tlsOptions, socket, servername });
    options.agent = agent;
  } else if (proxy) {
    target = new URL(proxy.origin); // its credentials go in Proxy-Authorization, not Authorization
    options.path = url.href;
    options.headers = { ...options.headers, host: url.host, ...proxyAuthorization(proxy) };
  }
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(target, options, (res) => {
      const chunks: Buffer[] = [];
      let n = 0;
      const max = o.maxBytes ?? DEFAULT_MAX;
      res.on("data", (c: Buffer) => {
        n += c.length;
        if (n > max) {
          req.destroy(new TransportError(`the answer is larger than ${max} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), url }),
      );
      res.on("error", (e) => reject(wrap(e)));
    });
    req.on("timeout", () =>
      req.destroy(new TransportError(`no answer within ${Math.round(o.timeoutMs / 1000)} s`, "ETIMEDOUT")),
    );
    req.on("error", (e) => reject(wrap(e)));
    req.end(o.body);
  });
}

function wrap(e: Error): TransportError {
  if (e instanceof TransportError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  return new TransportError(e.message || code || "connection failed", code);
}

/** Sends the request, following redirects; resolves with any HTTP status, rejects with TransportError. */
export async function httpRequest(url: URL, o: HttpOptions): Promise<HttpAnswer> {
  let at = url;
  let headers = { ...o.headers };
  for (let left = o.redirects ?? 5; ; left--) {
    const a = await once(at, { ...o, headers });
    const location = a.headers.location;
    if (![301, 302, 303, 307, 308].includes(a.status) || !location || left <= 0) return a;
    const next = new URL(location, at);
    if (next.origin !== at.origin) {
      const { authorization: _, ...rest } = headers;
      void _;
      headers = rest;
    }
    at = next;
  }
}
