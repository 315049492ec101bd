/**
 * The component's arguments: the public `StaticContainerRegistryArgs`
 * assembled from each concern's module (its interfaces, defaults, TSDoc and
 * check together), the resolved form the build works from, and
 * `validateArgs`, which runs every concern's check and reports every problem
 * at once, at construction time.
 *
 * The public argument types use optional fields and no TypeScript union or
 * intersection types, so that the component can be published as a Pulumi
 * package for every language (see common.ts): `StaticContainerRegistryArgs`
 * is one interface extending the concerns' interfaces, in the order the
 * schema lists the arguments.
 *
 * To add an argument: put it, with its TSDoc, into its concern's interface,
 * add its entry to that concern's table (`…_ARGS`: may it be an Output, and
 * if not, why), check it in the concern's `checkX`, and resolve it into
 * `ResolvedArgs` there.
 */
import { checkNames, checkPlain, DNS_LABEL_RE, InvalidArgsError, type ArgTable } from "./common";
import { checkImagesDir, checkScan, IMAGES_ARGS, SCAN_ARGS, type ImagesArgs, type ScanArgs } from "./images";
import { checkMirrorArgs, MIRROR_ARGS, type MirrorArgs, type ResolvedMirror } from "./mirror";
import { checkNamespace, NAMESPACE_ARGS, type NamespaceArgs, type ResolvedNamespace } from "./namespace";
import {
  checkNetworkPolicy,
  NETWORK_POLICY_ARGS,
  type NetworkPolicyOptionArgs,
  type ResolvedNetworkPolicy,
} from "./networkPolicy";
import { checkNodeArgs, NODES_ARGS, type NodesArgs, type ResolvedNodeArgs } from "./nodes";
import {
  checkObservability,
  OBSERVABILITY_ARGS,
  type ObservabilityArgs,
  type ResolvedObservability,
} from "./observability";
import {
  checkRendering,
  NAME_PREFIX_ARGS,
  RENDERING_ARGS,
  type NamePrefixArgs,
  type RenderingArgs,
  type ResolvedRendering,
} from "./rendering";
import { checkService, SERVICE_ARGS, ServiceType, type ResolvedService, type ServiceArgs } from "./service";
import { checkStorage, STORAGE_ARGS, type ResolvedStorage, type StorageArgs } from "./storage";
import {
  checkResourceOptions,
  RESOURCE_OPTION_ARGS,
  type ResolvedResourceOptions,
  type ResourceOptionsArgs,
} from "./timeouts";
import { checkTls, TLS_ARGS, type ResolvedTls, type TlsOptionArgs } from "./tls";
import { checkWiring, WIRING_ARGS, type ResolvedWiring, type WiringArgs } from "./wiring";
import {
  checkPods,
  POD_ARGS,
  STATIC_POD_ARGS,
  Workload,
  type PodArgs,
  type ResolvedPods,
  type StaticPodArgs,
} from "./workload";

export * from "./common";
export * from "./images";
export * from "./mirror";
export * from "./namespace";
export * from "./networkPolicy";
export * from "./nodes";
export * from "./observability";
export * from "./rendering";
export * from "./service";
export * from "./storage";
export * from "./timeouts";
export * from "./tls";
export * from "./wiring";
export * from "./workload";

/**
 * Arguments of StaticContainerRegistry. Fields that decide what is rendered
 * or which objects exist are plain values (known at construction); every
 * other field may be an Output.
 */
export interface StaticContainerRegistryArgs
  extends
    ImagesArgs,
    MirrorArgs,
    ScanArgs,
    NamePrefixArgs,
    NamespaceArgs,
    StorageArgs,
    PodArgs,
    ServiceArgs,
    WiringArgs,
    TlsOptionArgs,
    NetworkPolicyOptionArgs,
    StaticPodArgs,
    RenderingArgs,
    NodesArgs,
    ResourceOptionsArgs,
    ObservabilityArgs {}

/**
 * Every argument, and whether it may be an Output (see `ArgTable`). Its order
 * is the order of the plain-value problems and breaks ties between typo hints.
 */
const ARGS: ArgTable<StaticContainerRegistryArgs> = {
  ...IMAGES_ARGS,
  ...MIRROR_ARGS,
  ...SCAN_ARGS,
  ...NAME_PREFIX_ARGS,
  ...NAMESPACE_ARGS,
  ...STORAGE_ARGS,
  ...POD_ARGS,
  ...SERVICE_ARGS,
  ...WIRING_ARGS,
  ...RENDERING_ARGS,
  ...RESOURCE_OPTION_ARGS,
  ...TLS_ARGS,
  ...NETWORK_POLICY_ARGS,
  ...STATIC_POD_ARGS,
  ...NODES_ARGS,
  ...OBSERVABILITY_ARGS,
};

/** Args after validation, with every default filled in (internal). */
export interface ResolvedArgs
  extends
    ResolvedRendering,
    ResolvedNamespace,
    ResolvedStorage,
    ResolvedPods,
    ResolvedService,
    ResolvedWiring,
    ResolvedNodeArgs,
    ResolvedResourceOptions,
    ResolvedObservability {
  imagesDir: string;
  /** The images to mirror first, if a list was given. */
  mirror?: ResolvedMirror;
  verify: boolean;
  tls?: ResolvedTls;
  networkPolicy?: ResolvedNetworkPolicy;
}

/**
 * Checks every argument that can be checked before anything is deployed, and
 * fills in the defaults. Throws an {@link InvalidArgsError} listing all problems.
 * `name` is the component's resource name (it becomes part of Kubernetes object
 * names, so it must be a DNS label).
 */
export function validateArgs(name: string, args: StaticContainerRegistryArgs | undefined): ResolvedArgs {
  const problems: string[] = [];
  if (!args || typeof args !== "object")
    throw new InvalidArgsError(name, ["args are required (at least imagesDir and a storage option)"]);

  if (!DNS_LABEL_RE.test(name) || name.length > 40) {
    problems.push(
      `the resource name "${name}" is used in Kubernetes object names: use at most 40 lowercase letters, digits and '-', starting and ending with a letter or digit`,
    );
  }
  checkNames("", args, Object.keys(ARGS), problems);
  checkPlain(args, ARGS, problems);

  checkImagesDir(args, problems);
  const nodeArgs = checkNodeArgs(args, problems);
  const storage = checkStorage(args, nodeArgs.nodes, problems);
  const pods = checkPods(args, nodeArgs.registryImage?.name, problems);
  const service = checkService(args, problems);
  const namespace = checkNamespace(args, problems);
  const rendering = checkRendering(args, problems);
  const tls = checkTls(args.tls, problems);
  // Nodes reach the registry on a node port or the host network: the policy must let them in.
  const nodesPull =
    service.serviceType === ServiceType.NodePort ||
    service.serviceType === ServiceType.LoadBalancer ||
    pods.hostNetwork ||
    pods.workload === Workload.DaemonSet;
  const networkPolicy = checkNetworkPolicy(args.networkPolicy, nodesPull, problems);
  const mirror = checkMirrorArgs(args, problems);
  const scan = checkScan(args, problems);
  const wiring = checkWiring(args, problems);
  const resourceOptions = checkResourceOptions(args, problems);
  const observability = checkObservability(args, service.port, problems);

  if (problems.length > 0) throw new InvalidArgsError(name, problems);

  return {
    imagesDir: args.imagesDir,
    mirror,
    ...scan,
    ...rendering,
    ...namespace,
    ...storage,
    ...pods,
    ...service,
    ...wiring,
    ...(tls ? { tls } : {}),
    ...(networkPolicy ? { networkPolicy } : {}),
    ...nodeArgs,
    ...resourceOptions,
    ...observability,
  };
}

/**
 * Whether the pods can meet the Pod Security "restricted" level: hostPath
 * volumes (the images', the wiring DaemonSet's), the host network and host
 * ports (a DaemonSet's) are forbidden by "baseline" already.
 */
export function podSecurityLevel(
  a: Pick<ResolvedArgs, "storage" | "hostNetwork"> &
    Partial<Pick<ResolvedArgs, "workload" | "wiringDaemonSet">>,
): "restricted" | "privileged" {
  return a.storage === "hostPath" || a.hostNetwork || a.workload === Workload.DaemonSet || a.wiringDaemonSet
    ? "privileged"
    : "restricted";
}
