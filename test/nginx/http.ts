/**
 * Raw HTTP/1.1 over a socket: the request target goes out byte for byte (no
 * client-side normalisation of "..", "%2e" or "//"), one request per
 * connection.
 */
import * as net from "node:net";

export interface RawResponse {
  status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Every header line, in order (to count repeats). */
  headerLines: [string, string][];
  body: Buffer;
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
    sock.setTimeout(10000, () => sock.destroy(new Error(`timeout: ${method} ${target}`)));
    sock.on("data", (d: Buffer) => chunks.push(d));
    sock.on("error", reject);
    sock.on("close", () => {
      try {
        resolve(parse(Buffer.concat(chunks), method));
      } catch (e) {
        reject(e);
      }
    });
    const lines = [`${method} ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, "Connection: close"];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    if (body) lines.push(`Content-Length: ${body.length}`);
    sock.write(lines.join("\r\n") + "\r\n\r\n");
    if (body) sock.write(body);
  });
}

function parse(raw: Buffer, method: string): RawResponse {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) throw new Error(`no HTTP response: ${JSON.stringify(raw.toString("latin1").slice(0, 200))}`);
  const [statusLine, ...lines] = raw.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers: Record<string, string> = {};
  const headerLines: [string, string][] = [];
  for (const l of lines) {
    const i = l.indexOf(":");
    const k = l.slice(0, i).trim().toLowerCase();
    const v = l.slice(i + 1).trim();
    headerLines.push([k, v]);
    headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
  }
  let body = raw.subarray(end + 4);
  if (method === "HEAD") body = Buffer.alloc(0);
  else if (headers["content-length"] !== undefined)
    body = body.subarray(0, Number(headers["content-length"]));
  return { status, headers, headerLines, body };
}

/** The error codes of a JSON error body; throws when the body is not one. */
export function errorCodes(body: Buffer): string[] {
  const doc = JSON.parse(body.toString("utf8")) as { errors?: { code?: unknown; message?: unknown }[] };
  if (!Array.isArray(doc.errors) || doc.errors.length === 0) throw new Error(`not an error body: ${body}`);
  return doc.errors.map((e) => {
    if (typeof e.code !== "string" || typeof e.message !== "string")
      throw new Error(`bad error entry: ${body}`);
    return e.code;
  });
}
