/**
 * Text that wires a node's container runtime to the registry: one containerd
 * `hosts.toml` per upstream host (for `/etc/containerd/certs.d/<host>/hosts.toml`),
 * the `registries.yaml` `mirrors:` of k3s and RKE2, and the KEP-1755
 * `local-registry-hosting` document.
 *
 * A tree that keeps each upstream host as its first directory (what `mirror`
 * writes: `docker.io/library/alpine`) is served under the original names, so
 * each host's wiring points at `/v2/<host>` with `override_path`. A tree that
 * is not host-prefixed is wired for one `upstreamHost`, as before.
 *
 * Each runtime tries the node endpoint first, then the fallbacks (fallback.ts
 * decides them per workload), the upstream last: one `[host]` entry per
 * endpoint and prefix in hosts.toml, the `endpoint:` list in registries.yaml.
 *
 * The registry speaks plain HTTP by default (it serves public, content-addressed
 * data whose integrity the client checks by digest), so endpoints are `http://`;
 * with `tls` they are `https://`, and each runtime is told which CA to trust
 * (`ca` in hosts.toml, `configs.<endpoint>.tls.ca_file` in registries.yaml).
 */
import { stringify } from "yaml";
import { hostDir, hostOfRepository } from "../mirror/reference";

export interface NodeWiringOptions {
  /**
   * The registry that image references name, e.g. `docker.io` or a made-up
   * `registry.invalid`: pulls of `<upstreamHost>/<repo>:<tag>` go to the mirror.
   */
  upstreamHost: string;
  /** `host:port` under which the nodes reach the registry. */
  endpoint: string;
  /** `host:port`s to try after `endpoint`, in order (fallback.ts). */
  fallbacks?: readonly string[];
  /**
   * The name prefix the registry serves repositories under (e.g. `mirror/`),
   * if any: the mirror's API root then is `/v2/<prefix>`.
   */
  namePrefix?: string;
  /** The registry speaks HTTPS; the nodes trust the CA in this file. */
  tls?: WiringTls;
}

/** Where containerd finds the upstream registry itself, as the `server` of hosts.toml. */
export function upstreamServer(upstreamHost: string): string {
  // Docker Hub's API lives on another host than the one image names use.
  if (upstreamHost === "docker.io" || upstreamHost === "index.docker.io")
    return "https://registry-1.docker.io";
  return `https://${upstreamHost}`;
}

/** TOML basic string (JSON's escaping is valid TOML for these characters). */
function tomlString(s: string): string {
  return JSON.stringify(s);
}

/**
 * Everything the node wiring needs to know, for any number of upstream hosts.
 * Repositories that start with a host (`docker.io/library/alpine`, the layout
 * `mirror` writes) are wired under that host; the rest are served for
 * `upstreamHost`, at the registry's root (plus `namePrefix`).
 */
export interface UpstreamWiringOptions {
  /** `host:port` under which the nodes reach the registry. */
  endpoint: string;
  /** `host:port`s to try after `endpoint`, in order (fallback.ts). */
  fallbacks?: readonly string[];
  /** Repository names as stored (without the name prefix), e.g. the inventory's. */
  repositories?: readonly string[];
  /** Upstream hosts to wire even when no repository names them yet (e.g. the `images` list's). */
  hosts?: readonly string[];
  /** The upstream host for repositories that do not start with one; none when undefined. */
  upstreamHost?: string;
  /** The name prefix every repository is served under (e.g. `mirror/`), if any. */
  namePrefix?: string;
  /** The registry speaks HTTPS; the nodes trust the CA in this file (a path on the node). */
  tls?: WiringTls;
}

export interface WiringTls {
  /** Path, on the node, of the PEM CA certificate that signed the registry's certificate. */
  caFile: string;
}

/** `https` with TLS, else `http`. */
const scheme = (tls?: WiringTls) => (tls ? "https" : "http");

/** One upstream host and the API roots on the registry that serve its images, in the order to try them. */
export interface UpstreamRoute {
  host: string;
  /**
   * Name prefixes under which the registry serves this host's repositories:
   * `docker.io/` for a host-prefixed tree, `""` for the registry's root. The
   * name prefix is included.
   */
  prefixes: string[];
}

function trimSlashes(p: string | undefined): string {
  return (p ?? "").replace(/^\/+|\/+$/g, "");
}

function joinPrefix(...parts: string[]): string {
  const p = parts.map(trimSlashes).filter((x) => x !== "");
  return p.length ? `${p.join("/")}/` : "";
}

/**
 * Every upstream host to wire, sorted, each with the name prefixes that serve
 * it. A host that is both found in the tree and the `upstreamHost` gets both,
 * the host-prefixed one first.
 */
export function upstreamRoutes(o: UpstreamWiringOptions): UpstreamRoute[] {
  const byHost = new Map<string, Set<string>>();
  const add = (host: string, prefix: string) => {
    const h = host.toLowerCase();
    if (!byHost.has(h)) byHost.set(h, new Set());
    byHost.get(h)!.add(prefix);
  };
  const found = (o.repositories ?? []).map(hostOfRepository).filter((h): h is string => h !== undefined);
  for (const host of [...found, ...(o.hosts ?? [])]) add(host, joinPrefix(o.namePrefix ?? "", hostDir(host)));
  if (o.upstreamHost !== undefined) add(o.upstreamHost, joinPrefix(o.namePrefix ?? ""));
  return [...byHost.keys()].sort().map((host) => ({
    host,
    prefixes: [...byHost.get(host)!].sort((a, b) => b.length - a.length || (a < b ? -1 : 1)),
  }));
}

/** How long containerd 2.1+ waits for a connection to a registry endpoint (older versions ignore the key). */
export const DIAL_TIMEOUT = "1s";

/** Every endpoint of the options, in the order to try them. */
function endpointsOf(o: { endpoint: string; fallbacks?: readonly string[] }): string[] {
  return [...new Set([o.endpoint, ...(o.fallbacks ?? [])])];
}

/**
 * containerd hosts.toml for one upstream host: try the registry's endpoints in
 * order, for pulls and resolves only (it cannot take pushes), then the
 * upstream itself. A name prefix becomes the API root `/v2/<prefix>`, which
 * containerd uses as given with `override_path`. With several prefixes
 * containerd tries them in order (a 404 moves on to the next).
 */
export function hostsTomlFor(
  route: UpstreamRoute,
  endpoints: string | readonly string[],
  tls?: WiringTls,
): string {
  const lines = [
    `# /etc/containerd/certs.d/${route.host}/hosts.toml`,
    `# Generated by static-container-registry: pulls of ${route.host}/... try the static registry first.`,
    `# containerd reads it when its CRI registry config_path is /etc/containerd/certs.d.`,
    `server = ${tomlString(upstreamServer(route.host))}`,
  ];
  for (const endpoint of typeof endpoints === "string" ? [endpoints] : endpoints) {
    for (const prefix of route.prefixes) {
      const p = trimSlashes(prefix);
      lines.push(``, `[host.${tomlString(`${scheme(tls)}://${endpoint}${p === "" ? "" : `/v2/${p}`}`)}]`);
      lines.push(`  capabilities = ["pull", "resolve"]`);
      if (tls) lines.push(`  ca = ${tomlString(tls.caFile)}`);
      if (p !== "") lines.push(`  override_path = true`);
      lines.push(`  dial_timeout = ${tomlString(DIAL_TIMEOUT)}`);
    }
  }
  return lines.join("\n") + "\n";
}

/** One hosts.toml per upstream host: host → text (for `/etc/containerd/certs.d/<host>/hosts.toml`). */
export function containerdHostsTomls(o: UpstreamWiringOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const route of upstreamRoutes(o)) out[route.host] = hostsTomlFor(route, endpointsOf(o), o.tls);
  return out;
}

/**
 * `/etc/rancher/k3s/registries.yaml` (also RKE2's `/etc/rancher/rke2/registries.yaml`)
 * with one `mirrors:` entry per upstream host, a prefix added by a rewrite.
 * k3s has one rewrite per host, so a host served under two prefixes uses the
 * first (the host-prefixed tree).
 */
export function registriesYamlAll(o: UpstreamWiringOptions): string {
  const endpoints = endpointsOf(o);
  const mirrors: Record<string, unknown> = {};
  for (const route of upstreamRoutes(o)) {
    const mirror: Record<string, unknown> = { endpoint: endpoints.map((e) => `${scheme(o.tls)}://${e}`) };
    const p = trimSlashes(route.prefixes[0]);
    if (p !== "") mirror.rewrite = { "^(.*)$": `${p}/$1` };
    mirrors[route.host] = mirror;
  }
  if (!o.tls) return stringify({ mirrors });
  const tls = o.tls;
  const configs = Object.fromEntries(endpoints.map((e) => [e, { tls: { ca_file: tls.caFile } }]));
  return stringify({ mirrors, configs });
}

/** containerd hosts.toml for the single `upstreamHost` (the not host-prefixed tree). */
export function containerdHostsToml(o: NodeWiringOptions): string {
  return containerdHostsTomls({ ...o, repositories: [] })[o.upstreamHost.toLowerCase()];
}

/** The `mirrors:` entry of `registries.yaml` for the single `upstreamHost`. */
export function registriesYaml(o: NodeWiringOptions): string {
  return registriesYamlAll({ ...o, repositories: [] });
}

export interface LocalRegistryHostingOptions {
  /** Where a developer's machine (or a node) reaches the registry. */
  host: string;
  /** Where pods reach it. */
  hostFromClusterNetwork: string;
  /** Where the nodes' container runtime reaches it. */
  hostFromContainerRuntime: string;
  help?: string;
}

/** The `localRegistryHosting.v1` value of KEP-1755's ConfigMap. */
export function localRegistryHostingV1(o: LocalRegistryHostingOptions): string {
  const doc: Record<string, string> = {
    host: o.host,
    hostFromClusterNetwork: o.hostFromClusterNetwork,
    hostFromContainerRuntime: o.hostFromContainerRuntime,
  };
  if (o.help) doc.help = o.help;
  return stringify(doc);
}
