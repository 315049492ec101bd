/**
 * The optional NetworkPolicy around the registry pods: which namespaces and
 * address ranges may pull, and the nodes' addresses (required where the nodes
 * pull on a node port or the host network: nodes are not selectable by labels
 * in a NetworkPolicy). The policy itself is built by ../networkPolicy.ts.
 */
import { DNS_LABEL_RE, type ArgTable } from "./common";

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

/** The component's NetworkPolicy argument. */
export interface NetworkPolicyOptionArgs {
  /**
   * A NetworkPolicy: ingress to the registry port only from these namespaces,
   * CIDRs and the nodes (`nodeCidrs`, required when the nodes pull on a node
   * port or the host network); no egress. See src/kubernetes/networkPolicy.ts.
   */
  networkPolicy?: NetworkPolicyArgs;
}

export const NETWORK_POLICY_ARGS: ArgTable<NetworkPolicyOptionArgs> = {
  networkPolicy: "it decides whether a NetworkPolicy is created",
};

export interface ResolvedNetworkPolicy {
  namespaces: string[];
  cidrs: string[];
  nodeCidrs: string[];
}

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
