/**
 * Raw HTTP/1.1 over a socket: the request target goes out byte for byte (no
 * client-side normalisation of "..", "%2e" or "//"), one request per
 * connection. Used for traversal probes and for answers Node's client refuses.
 */
import assert from "node:assert/strict";
import * as net from "node:net";

export interface RawResponse {
  status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Every header line, in order (to count repeats). */
  headerLines: [string, string][];
  /** The body, de-chunked; empty for HEAD. */
  body: Buffer;
  /** Everything that came back, as it came. */
  raw: Buffer;
}

export function rawRequest(
  port: number,
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body?: Buffer,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    sock.setTimeout(30000, () => sock.destroy(new Error(`${method} ${target}: timeout`)));
    sock.on("connect", () => {
      const lines = [`${method} ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, "Connection: close"];
      for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
      if (body) lines.push(`Content-Length: ${body.length}`);
      sock.write(
        Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1"), body ?? Buffer.alloc(0)]),
      );
    });
    sock.on("data", (c: Buffer) => chunks.push(c));
    sock.on("error", reject);
    sock.on("close", () => {
      try {
        resolve(parseRaw(Buffer.concat(chunks), method));
      } catch (e) {
        reject(e);
      }
    });
  });
}

function parseRaw(raw: Buffer, method: string): RawResponse {
  const sep = raw.indexOf("\r\n\r\n");
  if (sep < 0)
    throw new Error(`no complete HTTP response: ${JSON.stringify(raw.toString("latin1").slice(0, 200))}`);
  const head = raw.subarray(0, sep).toString("latin1").split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
  if (!m) throw new Error(`bad status line: ${head[0]}`);
  const headers: Record<string, string> = {};
  const headerLines: [string, string][] = [];
  for (const line of head.slice(1)) {
    const i = line.indexOf(":");
    const k = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).trim();
    headerLines.push([k, v]);
    headers[k] = headers[k] !== undefined ? `${headers[k]}, ${v}` : v;
  }
  let body = raw.subarray(sep + 4);
  if (method === "HEAD") body = Buffer.alloc(0);
  else if (/chunked/i.test(headers["transfer-encoding"] ?? "")) body = dechunk(body);
  else if (headers["content-length"] !== undefined)
    body = body.subarray(0, Number(headers["content-length"]));
  return { status: Number(m[1]), headers, headerLines, body, raw };
}

function dechunk(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let rest = body;
  for (;;) {
    const eol = rest.indexOf("\r\n");
    const size = parseInt(rest.subarray(0, eol).toString("latin1"), 16);
    if (!size) break;
    out.push(rest.subarray(eol + 2, eol + 2 + size));
    rest = rest.subarray(eol + 2 + size + 2);
  }
  return Buffer.concat(out);
}

/** The `errors[].code` values of a registry JSON error body; throws when it is not one. */
export function errorCodes(body: Buffer): string[] {
  const doc = JSON.parse(body.toString("utf8")) as { errors?: { code?: unknown; message?: unknown }[] };
  if (!Array.isArray(doc.errors) || doc.errors.length === 0) throw new Error(`not an error body: ${body}`);
  return doc.errors.map((e) => {
    if (typeof e.code !== "string" || typeof e.message !== "string")
      throw new Error(`bad error entry: ${body}`);
    return e.code;
  });
}

/** A response as either client here returns it (rawRequest, or the e2e harness's request). */
export interface AnyResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  headerLines?: [string, string][];
}

/**
 * A registry's JSON error, as the distribution spec has it: `status`, one
 * `Docker-Distribution-API-Version: registry/2.0` header (counted when the
 * raw header lines are known), Content-Type application/json, and a body of
 * `errors` whose codes are exactly `[code]` (one expected) or each one of
 * `code` (a list of acceptable ones), each with a message.
 */
export function assertError(res: AnyResponse, status: number, code: string | string[], what: string) {
  const body = res.body.toString("utf8");
  assert.equal(res.status, status, `${what}: status (body ${body})`);
  if (res.headerLines) {
    const n = res.headerLines.filter(([k]) => k === "docker-distribution-api-version").length;
    assert.equal(n, 1, `${what}: one Docker-Distribution-API-Version header (got ${n})`);
  }
  assert.equal(res.headers["docker-distribution-api-version"], "registry/2.0", `${what}: API version`);
  assert.equal(res.headers["content-type"], "application/json", `${what}: Content-Type`);
  const got = errorCodes(res.body);
  if (typeof code === "string") assert.deepEqual(got, [code], `${what}: error code`);
  else
    assert.ok(
      got.every((c) => code.includes(c)),
      `${what}: error codes ${JSON.stringify(got)}, expected each one of ${JSON.stringify(code)}`,
    );
}
