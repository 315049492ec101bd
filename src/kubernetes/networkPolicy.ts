/**
 * Least exposure: an optional NetworkPolicy around the registry pods. Ingress
 * only to the registry port, only from the namespaces and CIDRs the user
 * names, plus the nodes (their container runtimes pull through the registry);
 * no egress at all — nginx serves files and never connects anywhere.
 *
 * Nodes are not selectable by labels in a NetworkPolicy, so where the nodes
 * pull (NodePort, LoadBalancer, host network, a DaemonSet on node ports) their
 * addresses must be given as `nodeCidrs`. Note that most network plugins do
 * not apply NetworkPolicies to host-network pods at all. No resources here.
 */
import type * as k8s from "@pulumi/kubernetes";
import { selectorLabels } from "./labels";

export interface NetworkPolicyArgs {
  /** Namespaces whose pods may pull (by name, `kubernetes.io/metadata.name`). */
  namespaces?: string[];
  /** Address ranges that may pull (e.g. a CI subnet), as CIDRs. */
  cidrs?: string[];
  /**
   * The nodes' addresses, as CIDRs: always allowed, so that their container
   * runtimes can pull. Required when the nodes reach the registry on a node
   * port or the host network (serviceType NodePort / LoadBalancer,
   * hostNetwork, workload DaemonSet).
   */
  nodeCidrs?: string[];
}

export interface ResolvedNetworkPolicy {
  namespaces: string[];
  cidrs: string[];
  nodeCidrs: string[];
}

const DNS_LABEL_RE = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const CIDR_RE =
  /^(?:(?:\d{1,3}\.){3}\d{1,3}\/(?:3[0-2]|[12]?\d)|[0-9a-fA-F:]+:[0-9a-fA-F:.]*\/(?:12[0-8]|1[01]\d|[1-9]?\d))$/;

function validCidr(c: unknown): boolean {
  if (typeof c !== "string" || !CIDR_RE.test(c)) return false;
  if (c.includes(":")) return true;
  return c
    .split("/")[0]
    .split(".")
    .every((o) => Number(o) <= 255);
}

/**
 * Validates `networkPolicy`; `nodesPull` says whether nodes reach the
 * registry on node ports or the host network (then nodeCidrs is required).
 */
export function checkNetworkPolicy(
  np: NetworkPolicyArgs | undefined,
  nodesPull: boolean,
  problems: string[],
): ResolvedNetworkPolicy | undefined {
  if (np === undefined) return undefined;
  if (typeof np !== "object" || np === null) {
    problems.push("networkPolicy must be { namespaces?, cidrs?, nodeCidrs? }");
    return undefined;
  }
  const list = (what: string, v: unknown, ok: (x: unknown) => boolean, kind: string): string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      problems.push(`networkPolicy.${what} must be a list of ${kind}`);
      return [];
    }
    for (const x of v) if (!ok(x)) problems.push(`networkPolicy.${what}: "${String(x)}" is not ${kind}`);
    return v as string[];
  };
  const r = {
    namespaces: list(
      "namespaces",
      np.namespaces,
      (x) => typeof x === "string" && DNS_LABEL_RE.test(x),
      "a namespace name",
    ),
    cidrs: list("cidrs", np.cidrs, validCidr, "a CIDR (e.g. 10.0.0.0/8)"),
    nodeCidrs: list("nodeCidrs", np.nodeCidrs, validCidr, "a CIDR (e.g. 192.168.1.0/24)"),
  };
  if (nodesPull && r.nodeCidrs.length === 0)
    problems.push(
      "networkPolicy.nodeCidrs is required when the nodes pull on a node port or the host network " +
        "(serviceType NodePort/LoadBalancer, hostNetwork, workload DaemonSet): the policy must let the nodes in",
    );
  return r;
}

/** The NetworkPolicy spec for the pods of component `name`. */
export function networkPolicySpec(
  name: string,
  np: ResolvedNetworkPolicy,
  port: number,
): k8s.types.input.networking.v1.NetworkPolicySpec {
  const from: k8s.types.input.networking.v1.NetworkPolicyPeer[] = [
    ...np.namespaces.map((ns) => ({
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
    })),
    ...[...np.nodeCidrs, ...np.cidrs].map((cidr) => ({ ipBlock: { cidr } })),
  ];
  return {
    podSelector: { matchLabels: selectorLabels(name) },
    policyTypes: ["Ingress", "Egress"],
    // No peers at all means nobody: an empty `from` would mean everybody.
    ingress: from.length ? [{ from, ports: [{ protocol: "TCP", port }] }] : [],
    egress: [],
  };
}
