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
import type { ResolvedNetworkPolicy } from "./args";
import { selectorLabels } from "./labels";

/** The NetworkPolicy spec for the pods of component `name`. */
export function networkPolicySpec(
  name: string,
  np: ResolvedNetworkPolicy,
  port: number,
  metricsPort?: number,
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
    // The metrics port, if any, to the same peers (list the scrapers' namespace in `namespaces`).
    ingress: from.length
      ? [
          {
            from,
            ports: [port, ...(metricsPort !== undefined ? [metricsPort] : [])].map((p) => ({
              protocol: "TCP",
              port: p,
            })),
          },
        ]
      : [],
    egress: [],
  };
}
