/**
 * How the nodes and the tools learn of the registry beyond the outputs: the
 * KEP-1755 `local-registry-hosting` ConfigMap, and the in-cluster wiring
 * DaemonSet for nodes that SSH cannot reach. (The SSH wiring comes with
 * `nodes`, see nodes.ts.)
 */
import { checkBooleans, type ArgTable } from "./common";

/** In-cluster announcements of the registry. */
export interface WiringArgs {
  /**
   * Also create the KEP-1755 `local-registry-hosting` ConfigMap in
   * `kube-public`, which tools such as Tilt read to find a local registry.
   * There is one per cluster: set this on one instance only. Plain: decides whether the ConfigMap exists.
   */
  localRegistryHosting?: boolean;
  /**
   * Also wire the nodes from inside the cluster, for nodes that cannot be
   * reached by SSH: a DaemonSet writes the containerd `hosts.toml` of every
   * upstream host into each node's `/etc/containerd/certs.d/<host>/` (its only
   * host access; containerd's CRI registry `config_path` must point there). It
   * never overwrites a hosts.toml it did not write. Runs as root without
   * capabilities: beyond the baseline Pod Security level (hostPath).
   */
  wiringDaemonSet?: boolean;
}

export const WIRING_ARGS: ArgTable<WiringArgs> = {
  localRegistryHosting: "it decides whether the local-registry-hosting ConfigMap is created",
  wiringDaemonSet: "it decides whether the wiring DaemonSet is created",
};

export interface ResolvedWiring {
  localRegistryHosting: boolean;
  wiringDaemonSet: boolean;
}

/** Checks the wiring arguments, pushing every problem. */
export function checkWiring(args: WiringArgs, problems: string[]): ResolvedWiring {
  if (args.wiringDaemonSet !== undefined && typeof args.wiringDaemonSet !== "boolean")
    problems.push(`wiringDaemonSet must be true or false, not ${JSON.stringify(args.wiringDaemonSet)}`);
  checkBooleans(args, ["localRegistryHosting"], problems);
  return {
    localRegistryHosting: args.localRegistryHosting ?? false,
    wiringDaemonSet: args.wiringDaemonSet ?? false,
  };
}
