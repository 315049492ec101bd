/**
 * One HTTP(S) request to an upstream registry with node:http / node:https:
 * the TLS trust given (CAs, client certificate, or no verification for an
 * `insecure` registry), a time limit on connecting and on each wait for
 * data, a cap on the body (registry answers here are small JSON documents),
 * and redirects followed (a few; `Authorization` dropped when one leaves the
 * origin, as Go's client does). No connection is kept open after the answer,
 * so a finished process exits at once.
 */
import * as http from "node:http";
import * as https from "node:https";

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

function once(url: URL, o: HttpOptions): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === "https:";
    const options: https.RequestOptions = {
      method: o.method ?? "GET",
      headers: { "user-agent": "static-container-registry", ...o.headers },
      agent: false,
      timeout: o.timeoutMs,
    };
    if (secure) {
      if (o.ca) options.ca = o.ca;
      if (o.clientCert) {
        options.cert = o.clientCert.cert;
        options.key = o.clientCert.key;
      }
      options.rejectUnauthorized = !o.insecure;
    }
    const req = (secure ? https : http).request(url, options, (res) => {
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
