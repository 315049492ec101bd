/**
 * The component's arguments, their defaults, and their validation.
 *
 * The public argument types use optional fields and no TypeScript union or
 * intersection types, so that the component can later be published as a Pulumi
 * package for every language. Choices such as "which storage" are expressed as
 * several optional fields of which exactly one must be set; `validateArgs`
 * enforces that and reports every mistake at once, at construction time.
 */
import * as fs from "node:fs";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parseHostPort } from "../hostPort";
import { NAME } from "../inventory/grammar";
import { checkNodeArgs, type RegistryImageArgs, type ResolvedRegistryImage } from "../nodes/args";
import type { NodeTarget, NodeTargetArgs } from "../nodes/targets";
import { problemList } from "../problemList";
import { checkWorkload, Workload } from "./workload";
import { checkNetworkPolicy, type NetworkPolicyArgs, type ResolvedNetworkPolicy } from "./networkPolicy";
import { checkTls, type ResolvedTls, type TlsArgs } from "./tls";
import { checkMirrorArgs, type RegistryCredential, type ResolvedMirror } from "../mirror/component";

type Input<T> = pulumi.Input<T>;

/**
 * A pinned, non-root nginx (UID/GID 101, listens on unprivileged ports, ships
 * busybox `sh`, `sha256sum` and `stat` for the drift guard).
 *
 * The digest is the multi-arch index of `nginxinc/nginx-unprivileged:1.27-alpine`
 * as pinned by several public projects; it could not be re-checked against the
 * registry from the offline build machines. Override `image` to use your own
 * mirror of it (in a bootstrap the image itself must already be on the nodes or
 * served by this very registry from a hostNetwork pod).
 */
export const DEFAULT_IMAGE =
  "nginxinc/nginx-unprivileged:1.27-alpine@sha256:65e3e85dbaed8ba248841d9d58a899b6197106c23cb0ff1a132b7bfe0547e4c0";

/** UID and GID of the `nginx` user in the nginx-unprivileged images. */
export const DEFAULT_UID = 101;
export const DEFAULT_GID = 101;

/** See {@link StaticContainerRegistryArgs.workerProcesses}. */
export const DEFAULT_WORKER_PROCESSES = 2;

/** Registries conventionally listen on 5000. */
export const DEFAULT_PORT = 5000;

/**
 * Upstream host name the node wiring makes containerd / k3s redirect to this
 * registry when none is given. `.invalid` never resolves (RFC 2606), so a pull
 * of `static-container-registry.invalid/library/alpine:3.19` can only ever be
 * answered by the mirror.
 */
export const DEFAULT_UPSTREAM_HOST = "static-container-registry.invalid";

/**
 * Kubernetes rejects a ConfigMap whose data exceeds 1 MiB. We pack files into
 * ConfigMaps of at most this many bytes (keys + values) to leave room for the
 * object's metadata and managedFields within etcd's request limit.
 */
export const DEFAULT_MAX_CONFIGMAP_BYTES = 900 * 1024;

export const SERVICE_TYPES = ["ClusterIP", "NodePort", "LoadBalancer"] as const;
export const PULL_POLICIES = ["IfNotPresent", "Always", "Never"] as const;

/** Serve the images from a directory on the node(s). */
export interface HostPathStorageArgs {
  /** Absolute path of the images directory on the nodes. */
  path: Input<string>;
  /**
   * Names of the nodes that hold a copy of the images (matched against the
   * `kubernetes.io/hostname` label with a required node affinity).
   */
  nodeNames?: string[];
  /** Node labels that select the nodes holding a copy of the images. */
  nodeSelector?: Record<string, string>;
  /**
   * Set to true when every node that can run the pod holds the images (e.g.
   * they are baked into the node image), so no pinning is needed.
   */
  anyNode?: boolean;
}

/** Serve the images from a PersistentVolumeClaim that already exists in the namespace. */
export interface ExistingClaimStorageArgs {
  /** Name of the claim (in the component's namespace). It is mounted read-only. */
  claimName: Input<string>;
}

/**
 * Create a PersistentVolume from the given spec, and a claim bound to exactly
 * that volume. Both use read-only access (`ReadOnlyMany`) and the volume is
 * retained when the claim goes away: this component never deletes images.
 */
export interface CreatedVolumeStorageArgs {
  /**
   * The volume's spec: its source (nfs, csi, local, ...), `storageClassName`,
   * `nodeAffinity`, `mountOptions`. `accessModes` default to `["ReadOnlyMany"]`
   * and may only name read-only modes; `capacity.storage` defaults to the size
   * of the images; `persistentVolumeReclaimPolicy` is always `Retain`;
   * `claimRef` is set by the component.
   */
  spec: Input<k8s.types.input.core.v1.PersistentVolumeSpec>;
}

export interface StaticContainerRegistryArgs {
  /**
   * The images directory (skopeo `dir:` tree and/or OCI image layouts), read on
   * the machine that runs Pulumi when the component is constructed. A tree with
   * problems fails the preview with the full problem list. The pods see the
   * same content through the storage below; the drift guard checks that they do.
   */
  imagesDir: string;
  /**
   * Image references to mirror into `imagesDir` first (`alpine:3.19`,
   * `registry.k8s.io/pause:3.10`, `quay.io/org/app@sha256:…`), each to
   * `<imagesDir>/<host>/<path>/<tag>/` by a `command.local.Command` running
   * skopeo; the scan runs after them (so `imagesDir` may start empty). An
   * unchanged list is a no-op; a removed reference's tag is removed. With a
   * list, the component owns the host directories of `imagesDir`.
   */
  images?: string[];
  /** A file of image references, one per line (`#` comments, blank lines), read at construction. */
  imagesFile?: string;
  /** Credentials per registry host for `images`, e.g. `{"quay.io": {username, password}}`. Kept secret. */
  registryCredentials?: Input<Record<string, Input<RegistryCredential>>>;
  /** A registries.conf for skopeo (mirrors, insecure hosts) instead of its default ones. */
  registriesConf?: string;
  /** Hash every blob while scanning (slow on large trees). Manifests are always hashed. */
  verify?: boolean;
  /** Prefix prepended to every repository name served: empty, or a repository name and `/` (e.g. `mirror/`). */
  namePrefix?: string;

  /** Namespace to deploy into. Default `default`. */
  namespace?: Input<string>;
  /**
   * Create the namespace (labelled with the strictest Pod Security level the
   * chosen mode allows) instead of using an existing one. Default false.
   */
  createNamespace?: boolean;

  /** Storage, option 1: a directory on the nodes. Exactly one storage option must be set. */
  hostPath?: HostPathStorageArgs;
  /** Storage, option 2: an existing PersistentVolumeClaim. */
  existingClaim?: ExistingClaimStorageArgs;
  /** Storage, option 3: a PersistentVolume (and its claim) created from a spec. */
  persistentVolume?: CreatedVolumeStorageArgs;

  /** nginx image for the server and the drift guard. Default: {@link DEFAULT_IMAGE}. */
  image?: Input<string>;
  /**
   * Default `IfNotPresent`: in a bootstrap there is no other registry to pull
   * from, so the image must be used from the node's cache.
   */
  imagePullPolicy?: string;
  /** Pull secrets for `image`, by name. */
  imagePullSecrets?: string[];
  /** UID nginx runs as. Must be non-zero. Default 101 (the image's `nginx` user). */
  runAsUser?: number;
  /** GID nginx runs as. Must be non-zero. Default 101. */
  runAsGroup?: number;

  /**
   * What runs the pods: `Deployment` (default; `replicas` pods) or `DaemonSet`
   * (one pod on each node that holds the images, on the host network unless
   * `hostNetwork` is false, when its port is a hostPort): every node pulls
   * from its own pod at `127.0.0.1:<port>`, and the Service sends in-cluster
   * clients to the pod on their node (`internalTrafficPolicy: Local`).
   */
  workload?: Workload;
  /** Number of pods of the Deployment. Default 1. With more than one, a PodDisruptionBudget keeps all but one up. */
  replicas?: number;
  /** Container resources for nginx. Default: requests 50m CPU / 64Mi, limit 512Mi memory. */
  resources?: Input<k8s.types.input.core.v1.ResourceRequirements>;
  /** Extra node selector for the pods (merged with the hostPath pinning). */
  nodeSelector?: Record<string, string>;
  tolerations?: Input<Input<k8s.types.input.core.v1.Toleration>[]>;
  /** Pod affinity rules (the hostPath node pinning is added to its node affinity). */
  affinity?: Input<k8s.types.input.core.v1.Affinity>;
  priorityClassName?: Input<string>;
  /** Labels added to every object (the selector labels cannot be overridden). */
  labels?: Record<string, string>;
  /** Annotations added to every object (and to the pod template). */
  annotations?: Record<string, string>;

  /** Service type: `ClusterIP` (default), `NodePort` or `LoadBalancer`. */
  serviceType?: string;
  /** Port nginx listens on and the Service exposes. 1024-65535 (nginx has no capabilities). Default 5000. */
  port?: number;
  /** Fixed node port for `NodePort` / `LoadBalancer` services. Default: allocated by the cluster. */
  nodePort?: number;
  /** Annotations for the Service only (e.g. load balancer settings). */
  serviceAnnotations?: Record<string, string>;
  /**
   * Run the pod in the node's network namespace, for a bootstrap node whose
   * container runtime must pull before the cluster network exists. The node
   * wiring then points at `127.0.0.1:<port>`. Violates the restricted and
   * baseline Pod Security levels. Default false, but true with workload `DaemonSet`.
   */
  hostNetwork?: boolean;

  /**
   * Upstream registry host the node wiring redirects to this registry, e.g.
   * `docker.io`, or a made-up `*.invalid` host. Default {@link DEFAULT_UPSTREAM_HOST}.
   */
  upstreamHost?: string;
  /**
   * `host:port` that container runtimes on the nodes use to reach the registry.
   * Default: `127.0.0.1:<port>` with hostNetwork, `127.0.0.1:<nodePort>` for a
   * NodePort service, the load balancer's address for `LoadBalancer`, else the
   * Service's cluster IP (kube-proxy makes it reachable from the nodes).
   */
  nodeEndpoint?: Input<string>;
  /** Cluster DNS domain used in the in-cluster endpoint. Default `cluster.local`. */
  clusterDomain?: string;
  /**
   * Also create the KEP-1755 `local-registry-hosting` ConfigMap in
   * `kube-public`, which tools such as Tilt read to find a local registry.
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
  /**
   * HTTPS: an existing `kubernetes.io/tls` Secret in the namespace, mounted
   * read-only; the registry port then speaks HTTPS (and HTTP/2) only, and the
   * node wiring outputs point at `https://` and trust the CA at `caFile` on
   * the nodes (put the CA certificate there). See src/kubernetes/tls.ts.
   */
  tls?: TlsArgs;
  /**
   * A NetworkPolicy: ingress to the registry port only from these namespaces,
   * CIDRs and the nodes (`nodeCidrs`, required when the nodes pull on a node
   * port or the host network); no egress. See src/kubernetes/networkPolicy.ts.
   */
  networkPolicy?: NetworkPolicyArgs;
  /**
   * With workload `StaticPod`: the kubelet's static pod manifests dir on the
   * nodes. Default `/etc/kubernetes/manifests` (kubeadm); k3s and RKE2 read
   * `/var/lib/rancher/k3s/agent/pod-manifests` and `/var/lib/rancher/rke2/agent/pod-manifests`.
   */
  staticPodManifestsDir?: string;

  /** Upper bound on the data of one ConfigMap; larger configs are split. Default 900 KiB. */
  maxConfigMapBytes?: number;
  /**
   * nginx `worker_processes`. Default 2: nginx's "auto" counts the node's CPUs,
   * not the pod's share of them, and serving files needs few workers.
   */
  workerProcesses?: number;

  /**
   * Nodes reached over SSH (@pulumi/command): with `hostPath`, the images dir
   * is delivered to `hostPath.path` on each (incrementally, switched
   * atomically), `registryImage` is imported into each one's containerd, and
   * every upstream host's `hosts.toml` is written there. The pods wait for the
   * delivery and the import, and are pinned to these nodes unless
   * `hostPath` says otherwise.
   */
  nodes?: NodeTargetArgs[];
  /** The registry's own image as a local archive, imported on each of `nodes` (sets `image`). */
  registryImage?: RegistryImageArgs;
}

export type StorageMode = "hostPath" | "existingClaim" | "persistentVolume";

/** Args after validation, with every default filled in (internal). */
export interface ResolvedArgs {
  imagesDir: string;
  /** The images to mirror first, if a list was given. */
  mirror?: ResolvedMirror;
  verify: boolean;
  namePrefix: string;
  namespace: Input<string>;
  createNamespace: boolean;
  storage: StorageMode;
  hostPath?: HostPathStorageArgs;
  existingClaim?: ExistingClaimStorageArgs;
  persistentVolume?: CreatedVolumeStorageArgs;
  image: Input<string>;
  imagePullPolicy: string;
  imagePullSecrets: string[];
  runAsUser: number;
  runAsGroup: number;
  workload: Workload;
  replicas: number;
  resources: Input<k8s.types.input.core.v1.ResourceRequirements>;
  nodeSelector: Record<string, string>;
  tolerations?: Input<Input<k8s.types.input.core.v1.Toleration>[]>;
  affinity?: Input<k8s.types.input.core.v1.Affinity>;
  priorityClassName?: Input<string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  serviceType: string;
  port: number;
  nodePort?: number;
  serviceAnnotations: Record<string, string>;
  hostNetwork: boolean;
  upstreamHost: string;
  nodeEndpoint?: Input<string>;
  clusterDomain: string;
  localRegistryHosting: boolean;
  wiringDaemonSet: boolean;
  tls?: ResolvedTls;
  networkPolicy?: ResolvedNetworkPolicy;
  staticPodManifestsDir?: string;
  maxConfigMapBytes: number;
  workerProcesses: number;
  nodes: NodeTarget[];
  registryImage?: ResolvedRegistryImage;
}

export const DEFAULT_RESOURCES: k8s.types.input.core.v1.ResourceRequirements = {
  requests: { cpu: "50m", memory: "64Mi" },
  limits: { memory: "512Mi" },
};

/**
 * Thrown for invalid arguments; the message lists every problem found. A
 * Pulumi RunError, so that Pulumi prints the message without a stack trace.
 */
export class InvalidArgsError extends pulumi.RunError {
  constructor(
    readonly resourceName: string,
    readonly problems: string[],
  ) {
    super(`StaticContainerRegistry "${resourceName}": invalid arguments:\n` + problemList(problems));
    this.name = "InvalidArgsError";
  }
}

const READ_ONLY_ACCESS_MODES = new Set(["ReadOnlyMany"]);
const LABEL_VALUE_RE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const QUALIFIED_NAME_RE =
  /^(?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const NAME_PREFIX_RE = new RegExp(`^(?:${NAME}/)?$`);
const DNS_LABEL_RE = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;

/** A plain (already known) value, or undefined when it is an Output/Promise. */
function known<T>(v: Input<T> | undefined): T | undefined {
  if (v === undefined || v === null) return undefined;
  if (pulumi.Output.isInstance(v) || v instanceof Promise) return undefined;
  return v as T;
}

function isInt(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n);
}

function checkLabels(what: string, labels: Record<string, string> | undefined, problems: string[]) {
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (!QUALIFIED_NAME_RE.test(k)) problems.push(`${what}: "${k}" is not a valid label key`);
    if (typeof v !== "string" || !LABEL_VALUE_RE.test(v))
      problems.push(`${what}: value of "${k}" is not a valid label value`);
  }
}

function checkAnnotations(what: string, annotations: Record<string, string> | undefined, problems: string[]) {
  for (const [k, v] of Object.entries(annotations ?? {})) {
    if (!QUALIFIED_NAME_RE.test(k)) problems.push(`${what}: "${k}" is not a valid annotation key`);
    if (typeof v !== "string") problems.push(`${what}: value of "${k}" must be a string`);
  }
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

  // imagesDir: a plain path, read now.
  if (typeof args.imagesDir !== "string" || args.imagesDir === "") {
    problems.push(
      "imagesDir is required: the images directory on the machine running Pulumi (a plain string, not an Output)",
    );
  } else {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(args.imagesDir);
    } catch {
      // With an image list, the mirror commands create it.
      if (args.images === undefined && args.imagesFile === undefined)
        problems.push(`imagesDir "${args.imagesDir}" does not exist`);
    }
    if (st && !st.isDirectory()) problems.push(`imagesDir "${args.imagesDir}" is not a directory`);
  }

  const nodeArgs = checkNodeArgs(args, problems);

  // Storage: exactly one of three.
  const chosen = (["hostPath", "existingClaim", "persistentVolume"] as const).filter(
    (k) => args[k] !== undefined,
  );
  let storage: StorageMode = "hostPath";
  if (chosen.length !== 1) {
    problems.push(
      chosen.length === 0
        ? "a storage option is required: set exactly one of hostPath, existingClaim or persistentVolume"
        : `set exactly one storage option, not ${chosen.join(" and ")}`,
    );
  } else {
    storage = chosen[0];
  }

  if (args.hostPath !== undefined) {
    const hp = args.hostPath;
    const p = known(hp.path);
    if (hp.path === undefined || p === "") problems.push("hostPath.path is required");
    else if (typeof p === "string" && !p.startsWith("/"))
      problems.push(`hostPath.path "${p}" must be an absolute path on the node`);
    const pinned =
      nodeArgs.nodes.length > 0 ||
      (hp.nodeNames?.length ?? 0) > 0 ||
      Object.keys(hp.nodeSelector ?? {}).length > 0 ||
      Object.keys(args.nodeSelector ?? {}).length > 0 ||
      args.affinity !== undefined;
    if (!pinned && !hp.anyNode) {
      problems.push(
        "hostPath needs nodeNames or nodeSelector (or a top-level nodeSelector/affinity) so the pods land on the nodes that hold the images; set hostPath.anyNode = true if every node does",
      );
    }
    for (const n of hp.nodeNames ?? []) {
      if (typeof n !== "string" || !LABEL_VALUE_RE.test(n) || n === "")
        problems.push(`hostPath.nodeNames: "${n}" is not a valid node name`);
    }
    checkLabels("hostPath.nodeSelector", hp.nodeSelector, problems);
  }
  if (args.existingClaim !== undefined) {
    const c = known(args.existingClaim.claimName);
    if (args.existingClaim.claimName === undefined || c === "")
      problems.push("existingClaim.claimName is required");
    else if (typeof c === "string" && !/^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$/.test(c)) {
      problems.push(`existingClaim.claimName "${c}" is not a valid object name`);
    }
  }
  if (args.persistentVolume !== undefined) {
    const spec = known(args.persistentVolume.spec);
    if (args.persistentVolume.spec === undefined) problems.push("persistentVolume.spec is required");
    else if (spec) {
      const modes = known(spec.accessModes);
      if (Array.isArray(modes)) {
        const bad = modes.filter((m) => typeof m === "string" && !READ_ONLY_ACCESS_MODES.has(m));
        if (bad.length > 0) {
          problems.push(
            `persistentVolume.spec.accessModes may only be ReadOnlyMany (the registry never writes), not ${bad.join(", ")}`,
          );
        }
      }
      if (spec.claimRef !== undefined)
        problems.push("persistentVolume.spec.claimRef is set by the component; leave it out");
    }
  }

  // Pods.
  const workload = checkWorkload(args, problems);
  if (
    args.staticPodManifestsDir !== undefined &&
    (typeof args.staticPodManifestsDir !== "string" ||
      !/^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/.test(args.staticPodManifestsDir))
  )
    problems.push(
      `staticPodManifestsDir must be an absolute path, not ${JSON.stringify(args.staticPodManifestsDir)}`,
    );
  if (args.staticPodManifestsDir !== undefined && workload.workload !== Workload.StaticPod)
    problems.push("staticPodManifestsDir needs workload StaticPod");
  if (args.wiringDaemonSet !== undefined && typeof args.wiringDaemonSet !== "boolean")
    problems.push(`wiringDaemonSet must be true or false, not ${JSON.stringify(args.wiringDaemonSet)}`);
  const replicas = args.replicas ?? 1;
  if (!isInt(replicas) || replicas < 1)
    problems.push(`replicas must be a whole number >= 1, not ${args.replicas}`);
  const runAsUser = args.runAsUser ?? DEFAULT_UID;
  const runAsGroup = args.runAsGroup ?? DEFAULT_GID;
  if (!isInt(runAsUser) || runAsUser < 1)
    problems.push(`runAsUser must be a non-root UID (>= 1), not ${args.runAsUser}`);
  if (!isInt(runAsGroup) || runAsGroup < 1)
    problems.push(`runAsGroup must be a non-root GID (>= 1), not ${args.runAsGroup}`);
  const imagePullPolicy = args.imagePullPolicy ?? "IfNotPresent";
  if (!(PULL_POLICIES as readonly string[]).includes(imagePullPolicy)) {
    problems.push(`imagePullPolicy must be one of ${PULL_POLICIES.join(", ")}, not "${imagePullPolicy}"`);
  }
  const image = args.image ?? nodeArgs.registryImage?.name ?? DEFAULT_IMAGE;
  if (known(image) === "") problems.push("image must not be empty");
  checkLabels("labels", args.labels, problems);
  checkLabels("nodeSelector", args.nodeSelector, problems);
  checkAnnotations("annotations", args.annotations, problems);
  checkAnnotations("serviceAnnotations", args.serviceAnnotations, problems);
  for (const s of args.imagePullSecrets ?? []) {
    if (typeof s !== "string" || s === "") problems.push("imagePullSecrets must be secret names");
  }

  // Network.
  const port = args.port ?? DEFAULT_PORT;
  if (!isInt(port) || port < 1024 || port > 65535) {
    problems.push(
      `port must be a whole number in 1024-65535 (nginx runs without capabilities, so it cannot bind lower ports), not ${args.port}`,
    );
  }
  const serviceType = args.serviceType ?? "ClusterIP";
  if (!(SERVICE_TYPES as readonly string[]).includes(serviceType)) {
    problems.push(`serviceType must be one of ${SERVICE_TYPES.join(", ")}, not "${serviceType}"`);
  }
  if (args.nodePort !== undefined) {
    if (serviceType !== "NodePort" && serviceType !== "LoadBalancer") {
      problems.push(`nodePort needs serviceType NodePort or LoadBalancer (serviceType is ${serviceType})`);
    }
    if (!isInt(args.nodePort) || args.nodePort < 1 || args.nodePort > 65535) {
      problems.push(
        `nodePort must be a port number (clusters allow 30000-32767 by default), not ${args.nodePort}`,
      );
    }
  }
  const upstreamHost = args.upstreamHost ?? DEFAULT_UPSTREAM_HOST;
  if (typeof upstreamHost !== "string" || !parseHostPort(upstreamHost, { host: true })) {
    problems.push(
      `upstreamHost must be a host name with an optional port (e.g. docker.io), not "${upstreamHost}"`,
    );
  }
  const ne = known(args.nodeEndpoint);
  if (typeof ne === "string" && !parseHostPort(ne, { host: true }))
    problems.push(`nodeEndpoint must be host:port, not "${ne}"`);
  const clusterDomain = args.clusterDomain ?? "cluster.local";
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(clusterDomain))
    problems.push(`clusterDomain "${clusterDomain}" is not a DNS name`);

  // Namespace.
  const ns = known(args.namespace);
  if (args.namespace !== undefined && (typeof ns === "string" ? !DNS_LABEL_RE.test(ns) : ns !== undefined)) {
    problems.push(`namespace "${String(ns)}" is not a valid namespace name`);
  }

  // Rendering.
  const maxConfigMapBytes = args.maxConfigMapBytes ?? DEFAULT_MAX_CONFIGMAP_BYTES;
  if (!isInt(maxConfigMapBytes) || maxConfigMapBytes < 65536 || maxConfigMapBytes > 1024 * 1024) {
    problems.push(
      `maxConfigMapBytes must be between 65536 and 1048576 (Kubernetes' limit), not ${args.maxConfigMapBytes}`,
    );
  }
  if (args.workerProcesses !== undefined && (!isInt(args.workerProcesses) || args.workerProcesses < 1)) {
    problems.push(`workerProcesses must be a whole number >= 1, not ${args.workerProcesses}`);
  }
  if (
    args.namePrefix !== undefined &&
    (typeof args.namePrefix !== "string" || !NAME_PREFIX_RE.test(args.namePrefix))
  ) {
    problems.push(
      `namePrefix "${args.namePrefix}" must be empty or a repository name followed by "/" (e.g. "mirror/")`,
    );
  }

  // Security.
  const tls = checkTls(args.tls, problems);
  const nodesPull =
    serviceType === "NodePort" ||
    serviceType === "LoadBalancer" ||
    workload.hostNetwork ||
    workload.workload === Workload.DaemonSet;
  const networkPolicy = checkNetworkPolicy(args.networkPolicy, nodesPull, problems);
  const mirror = checkMirrorArgs(args, problems);

  if (problems.length > 0) throw new InvalidArgsError(name, problems);

  return {
    imagesDir: args.imagesDir,
    mirror,
    verify: args.verify ?? false,
    namePrefix: args.namePrefix ?? "",
    namespace: args.namespace ?? "default",
    createNamespace: args.createNamespace ?? false,
    storage,
    hostPath: withNodeNames(args.hostPath, nodeArgs.nodes),
    existingClaim: args.existingClaim,
    persistentVolume: args.persistentVolume,
    image,
    imagePullPolicy,
    imagePullSecrets: args.imagePullSecrets ?? [],
    runAsUser,
    runAsGroup,
    workload: workload.workload,
    replicas,
    resources: args.resources ?? DEFAULT_RESOURCES,
    nodeSelector: args.nodeSelector ?? {},
    tolerations: args.tolerations,
    affinity: args.affinity,
    priorityClassName: args.priorityClassName,
    labels: args.labels ?? {},
    annotations: args.annotations ?? {},
    serviceType,
    port,
    nodePort: args.nodePort,
    serviceAnnotations: args.serviceAnnotations ?? {},
    hostNetwork: workload.hostNetwork,
    upstreamHost,
    nodeEndpoint: args.nodeEndpoint,
    clusterDomain,
    localRegistryHosting: args.localRegistryHosting ?? false,
    wiringDaemonSet: args.wiringDaemonSet ?? false,
    ...(tls ? { tls } : {}),
    ...(networkPolicy ? { networkPolicy } : {}),
    staticPodManifestsDir: args.staticPodManifestsDir,
    maxConfigMapBytes,
    workerProcesses: args.workerProcesses ?? DEFAULT_WORKER_PROCESSES,
    ...nodeArgs,
  };
}

/** hostPath pinned to the SSH nodes (where the images are delivered) unless it names its own nodes. */
function withNodeNames(
  hp: HostPathStorageArgs | undefined,
  nodes: NodeTarget[],
): HostPathStorageArgs | undefined {
  if (hp === undefined || nodes.length === 0) return hp;
  const own = (hp.nodeNames?.length ?? 0) > 0 || Object.keys(hp.nodeSelector ?? {}).length > 0 || hp.anyNode;
  return own ? hp : { ...hp, nodeNames: nodes.map((n) => n.kubernetesNodeName) };
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
