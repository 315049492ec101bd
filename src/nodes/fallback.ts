/**
 * Where a node's container runtime looks for the registry, in order: its own
 * first, then other copies of the same content, the upstream (containerd's
 * `server`) last. containerd tries the `[host]` entries of hosts.toml in order
 * and moves on after a connection error or an error status, so the list is
 * what keeps a node pulling while its own registry is replaced (every images
 * or config change rolls it), crashes, or is held back by the drift guard —
 * in an air gap the upstream never answers.
 *
 * What may follow the node's own registry is chosen so that a pull never
 * waits on a dead node (containerd before 2.1 has no `dial_timeout`: a host
 * that drops packets costs each request 30 s):
 *
 * - DaemonSet: the registry's Service, by cluster IP. kube-proxy routes it to
 *   Ready pods only, on any node, and rejects at once when there are none.
 *   (Other nodes' addresses are not listed: nothing would keep a dead one out.)
 * - Deployment: the node endpoint is already a Service (cluster IP, node port
 *   or load balancer) that routes to Ready pods; when it is not the cluster IP
 *   itself, the cluster IP follows (another path through kube-proxy).
 * - StaticPod: before the cluster network exists only the nodes' own
 *   addresses work: every registry node's `address:port` follows, in the
 *   order of `nodes`. These are {@link probedEndpoints}: the node-side watcher
 *   (keepWired.ts) leaves out those that do not answer, so a dead or cut-off
 *   node is out of the list within seconds. The node's own address is among
 *   them: it fails as fast as its loopback does.
 *
 * Every node gets the same list, so the `hostsTomls` and `registriesYaml`
 * outputs are exactly what the nodes are given.
 */

/** How the registry runs (the component's `workload`). */
export type FallbackMode = "Deployment" | "DaemonSet" | "StaticPod";

export interface FallbackInput {
  mode: FallbackMode;
  /** `host:port` where each node reaches the registry first (the node endpoint). */
  nodeEndpoint: string;
  /** `host:port` of the registry's Service by cluster IP, where there is a Service. */
  service?: string;
  /** `host:port` of every node that runs a registry (static pods: the nodes' addresses and the port). */
  peers?: readonly string[];
}

/** The endpoints to try after the node endpoint, in order, without repeats. */
export function fallbackEndpoints(i: FallbackInput): string[] {
  const after = i.mode === "StaticPod" ? [...(i.peers ?? [])] : i.service !== undefined ? [i.service] : [];
  return [...new Set(after)].filter((e) => e !== i.nodeEndpoint);
}

/** The whole ordered list: the node endpoint, then {@link fallbackEndpoints}. */
export function registryEndpoints(i: FallbackInput): string[] {
  return [i.nodeEndpoint, ...fallbackEndpoints(i)];
}

/** The endpoints the node-side watcher health-checks (only other nodes' addresses: static pods). */
export function probedEndpoints(i: FallbackInput): string[] {
  return i.mode === "StaticPod" ? fallbackEndpoints(i) : [];
}
