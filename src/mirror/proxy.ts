/**
 * Which HTTP proxy a request goes through, decided as Go's net/http decides
 * it for skopeo (golang.org/x/net/http/httpproxy), so the mirror's own
 * requests take the same way out as skopeo's copies:
 *
 * - `HTTPS_PROXY` for https URLs, `HTTP_PROXY` for http ones (upper case
 *   first, then lower case); a proxy written without a scheme is `http://…`;
 * - never for `localhost` or a loopback address;
 * - not for a host `NO_PROXY` names: `*` (everything), an IP address or CIDR
 *   prefix, or a domain name (`foo.com` matches it and its subdomains,
 *   `.foo.com` only its subdomains), each maybe with a `:port`.
 */
import * as net from "node:net";

type Env = Readonly<Record<string, string | undefined>>;

const pick = (env: Env, name: string) => env[name.toUpperCase()] || env[name.toLowerCase()] || undefined;

function isLoopback(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  const bare = host.replace(/^\[|\]$/g, "");
  if (net.isIPv4(bare)) return bare.startsWith("127.");
  if (net.isIPv6(bare)) return bare === "::1";
  return false;
}

/** Whether `NO_PROXY` exempts `host` (no brackets) with `port`. */
export function noProxyMatches(noProxy: string, host: string, port: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  for (let entry of noProxy.split(",").map((e) => e.trim().toLowerCase())) {
    if (!entry) continue;
    if (entry === "*") return true;
    if (entry.includes("/")) {
      const [ip, bits] = entry.split("/");
      const family = net.isIPv4(ip) ? "ipv4" : net.isIPv6(ip) ? "ipv6" : undefined;
      if (!family || !net.isIP(h)) continue;
      const list = new net.BlockList();
      try {
        list.addSubnet(ip, Number(bits), family);
      } catch {
        continue;
      }
      if (list.check(h, net.isIPv4(h) ? "ipv4" : "ipv6")) return true;
      continue;
    }
    let entryPort = "";
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracketed) {
      entry = bracketed[1];
      entryPort = bracketed[2] ?? "";
    } else if (!net.isIPv6(entry)) {
      const m = /^(.*):(\d+)$/.exec(entry);
      if (m) [entry, entryPort] = [m[1], m[2]];
    }
    if (entryPort && entryPort !== port) continue;
    if (net.isIP(entry)) {
      if (entry === h) return true;
      continue;
    }
    if (entry.startsWith("*.")) entry = entry.slice(1);
    if (entry.startsWith(".")) {
      if (h.endsWith(entry)) return true;
    } else if (h === entry || h.endsWith(`.${entry}`)) return true;
  }
  return false;
}

/** The proxy for `url`, or undefined for a direct connection (see the header). */
export function proxyFor(url: URL, env: Env): URL | undefined {
  const host = url.hostname;
  if (isLoopback(host)) return undefined;
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const noProxy = pick(env, "no_proxy");
  if (noProxy && noProxyMatches(noProxy, host, port)) return undefined;
  // Like Go, ignore HTTP_PROXY in a CGI environment (where it may come from a request header).
  if (url.protocol === "http:" && env.REQUEST_METHOD) return undefined;
  const raw = url.protocol === "https:" ? pick(env, "https_proxy") : pick(env, "http_proxy");
  if (!raw) return undefined;
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new Error(`the proxy ${JSON.stringify(raw)} is not a URL`);
  }
}
