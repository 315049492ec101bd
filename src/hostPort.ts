/**
 * `host:port` text: the one parser and the one formatter. Listen addresses
 * (CLI `--listen`, nginx `listen`), upstream registry hosts and node endpoints
 * are all this shape; a bare IPv6 address is bracketed, as in URLs.
 */

/** RFC 1123 host name (an IPv4 address is one too) or a bracketed IPv6 address. */
const HOST = String.raw`[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\]`;
// A bare number is a port, never a host name.
const HOST_PORT_RE = new RegExp(`^(?:(\\d{1,5})|(${HOST})(?::(\\d{1,5}))?)$`);

export interface HostPort {
  /** As written: host name, IPv4 address, or `[IPv6]` (brackets kept). Absent for a bare port. */
  host?: string;
  /** 1-65535. Absent when only a host was written. */
  port?: number;
}

/**
 * Parses `host`, `host:port` or `port`. Returns undefined when the text is none
 * of these or the port is outside 1-65535; `need` says which parts must be present.
 */
export function parseHostPort(
  text: string,
  need: { host?: boolean; port?: boolean } = {},
): HostPort | undefined {
  if (typeof text !== "string") return undefined;
  const m = HOST_PORT_RE.exec(text);
  if (!m) return undefined;
  const host = m[2];
  const portText = m[1] ?? m[3];
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  if (need.host && host === undefined) return undefined;
  if (need.port && port === undefined) return undefined;
  return { ...(host !== undefined ? { host } : {}), ...(port !== undefined ? { port } : {}) };
}

/** `host:port`, bracketing a bare IPv6 address. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}
