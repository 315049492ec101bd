/**
 * The pods: the nginx image and how it is pulled, the non-root user it runs
 * as, what runs the pods (Deployment, DaemonSet or a kubelet static pod) and
 * where they are scheduled, and the labels and annotations every object
 * carries. The builders of the pod specs are ../workload.ts and ../staticPod.ts.
 */
import type * as k8s from "@pulumi/kubernetes";
import {
  checkAnnotations,
  checkLabels,
  isInt,
  isOutputOrPromise,
  known,
  type ArgTable,
  type Input,
} from "./common";

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

/** When the kubelet pulls the nginx image. */
export const ImagePullPolicy = {
  /** Use the node's copy when there is one (a bootstrap has no other registry to pull from). */
  IfNotPresent: "IfNotPresent",
  /** Pull at every pod start. */
  Always: "Always",
  /** Never pull: the image must already be on the node. */
  Never: "Never",
} as const;
/** When the kubelet pulls the nginx image. */
export type ImagePullPolicy = (typeof ImagePullPolicy)[keyof typeof ImagePullPolicy];
export const PULL_POLICIES = Object.values(ImagePullPolicy);

export const DEFAULT_RESOURCES: k8s.types.input.core.v1.ResourceRequirements = {
  requests: { cpu: "50m", memory: "64Mi" },
  limits: { memory: "512Mi" },
};

/** What runs the registry pods. */
export const Workload = {
  /** `replicas` pods behind the Service, on the nodes that hold the images. */
  Deployment: "Deployment",
  /**
   * One pod on every node that holds the images, on the node's network
   * (or a hostPort): each node's container runtime pulls from its own pod at
   * `127.0.0.1:<port>` first, then through the Service's cluster IP, which
   * routes to Ready pods on any node (while its own pod is replaced or down).
   */
  DaemonSet: "DaemonSet",
  /**
   * Before the cluster exists: a kubelet static pod on each of the SSH
   * `nodes` (manifest and config files placed over SSH, see staticPod.ts),
   * on the host network; no Kubernetes object is created.
   */
  StaticPod: "StaticPod",
} as const;
export type Workload = (typeof Workload)[keyof typeof Workload];

/** The workload arguments, resolved: the kind, and whether the pods use the host network. */
export interface ResolvedWorkload {
  workload: Workload;
  hostNetwork: boolean;
}

/**
 * Checks `workload` (and what it rules out) and resolves it: a DaemonSet
 * runs on the host network unless `hostNetwork` is false, in which case its
 * container port is a hostPort. Problems are appended to `problems`.
 */
export function checkWorkload(given: object, problems: string[]): ResolvedWorkload {
  const args = given as Record<string, unknown>;
  const values = Object.values(Workload) as string[];
  const w = args.workload ?? Workload.Deployment;
  if (typeof w !== "string" || !values.includes(w)) {
    problems.push(`workload must be one of ${values.join(", ")}, not ${JSON.stringify(w)}`);
    return { workload: Workload.Deployment, hostNetwork: args.hostNetwork === true };
  }
  const workload = w as Workload;
  if (workload === Workload.DaemonSet && args.replicas !== undefined) {
    problems.push(
      "replicas has no meaning with workload DaemonSet (one pod on each node that holds the images); leave it out",
    );
  }
  if (workload === Workload.StaticPod) {
    if (!Array.isArray(args.nodes) || args.nodes.length === 0)
      problems.push("workload StaticPod needs nodes: the SSH targets that get the static pod");
    if (args.hostPath === undefined)
      problems.push("workload StaticPod needs hostPath storage: the images on the nodes' disks");
    if (args.hostNetwork === false)
      problems.push("workload StaticPod runs on the host network; leave hostNetwork out");
    // Nothing of the cluster exists yet: options that create or need Kubernetes objects do not apply.
    for (const k of [
      "replicas",
      "createNamespace",
      "serviceType",
      "nodePort",
      "serviceAnnotations",
      "localRegistryHosting",
      "wiringDaemonSet",
      "imagePullSecrets",
      "tls",
      "networkPolicy",
    ]) {
      if (args[k] !== undefined && args[k] !== false)
        problems.push(
          `${k} has no meaning with workload StaticPod (no Kubernetes object is created); leave it out`,
        );
    }
  }
  const hostNetwork =
    typeof args.hostNetwork === "boolean" ? args.hostNetwork : workload !== Workload.Deployment;
  return { workload, hostNetwork };
}

/** The pods' image, user, kind and scheduling, and every object's labels and annotations. */
export interface PodArgs {
  /**
   * nginx image for the server and the drift guard. Default: the pinned
   * `nginxinc/nginx-unprivileged:1.27-alpine` (see `DEFAULT_IMAGE`).
   */
  image?: Input<string>;
  /**
   * When the kubelet pulls `image`. Default `IfNotPresent`: in a bootstrap
   * there is no other registry to pull from, so the image must be used from the node's cache.
   */
  imagePullPolicy?: Input<ImagePullPolicy>;
  /** Pull secrets for `image`, by name. The list is plain; each name may be an Output. */
  imagePullSecrets?: Input<string>[];
  /**
   * UID nginx runs as: a whole number, non-zero. Default 101 (the image's
   * `nginx` user). Plain: checked to be non-root before anything is deployed.
   */
  runAsUser?: number;
  /** GID nginx runs as: a whole number, non-zero. Default 101. Plain: checked like runAsUser. */
  runAsGroup?: number;

  /**
   * What runs the pods: `Deployment` (default; `replicas` pods) or `DaemonSet`
   * (one pod on each node that holds the images, on the host network unless
   * `hostNetwork` is false, when its port is a hostPort): every node pulls
   * from its own pod at `127.0.0.1:<port>` first, then from any Ready pod
   * through the Service's cluster IP (while its own is replaced or down).
   */
  workload?: Workload;
  /**
   * Number of pods of the Deployment: a whole number >= 1. Default 1. With more than one, a
   * PodDisruptionBudget keeps all but one up. Plain: decides whether the PodDisruptionBudget exists.
   */
  replicas?: number;
  /** Container resources for nginx. Default: requests 50m CPU / 64Mi, limit 512Mi memory. */
  resources?: Input<k8s.types.input.core.v1.ResourceRequirements>;
  /**
   * Extra node selector for the pods (merged with the hostPath pinning). The
   * map is plain (merged at construction); values may be Outputs.
   */
  nodeSelector?: Record<string, Input<string>>;
  /** Tolerations of the pods, e.g. to run on tainted control-plane nodes. */
  tolerations?: Input<Input<k8s.types.input.core.v1.Toleration>[]>;
  /** Pod affinity rules (the hostPath node pinning is added to its node affinity). */
  affinity?: Input<k8s.types.input.core.v1.Affinity>;
  /** PriorityClass of the pods, e.g. `system-cluster-critical` for a bootstrap registry. */
  priorityClassName?: Input<string>;
  /**
   * Labels added to every object (the selector labels cannot be overridden).
   * Plain: merged into every object's labels and checked at construction.
   */
  labels?: Record<string, string>;
  /** Annotations added to every object (and to the pod template). Plain, like labels. */
  annotations?: Record<string, string>;
}

/** Where a static pod's manifest goes. */
export interface StaticPodArgs {
  /**
   * With workload `StaticPod`: the kubelet's static pod manifests dir on the
   * nodes. Default `/etc/kubernetes/manifests` (kubeadm); k3s and RKE2 read
   * `/var/lib/rancher/k3s/agent/pod-manifests` and `/var/lib/rancher/rke2/agent/pod-manifests`.
   */
  staticPodManifestsDir?: string;
}

export const POD_ARGS: ArgTable<PodArgs> = {
  image: "input",
  imagePullPolicy: "input",
  imagePullSecrets: "it decides whether the pods get pull secrets",
  runAsUser: "it is checked to be non-root before anything is deployed",
  runAsGroup: "it is checked to be non-root before anything is deployed",
  workload: "it decides which objects run the pods",
  replicas: "it decides whether a PodDisruptionBudget is created",
  resources: "input",
  nodeSelector: "it is merged with the hostPath pinning at construction",
  tolerations: "input",
  affinity: "input",
  priorityClassName: "input",
  labels: "it is merged into every object's labels and checked at construction",
  annotations: "it is merged into every object's annotations at construction",
};

export const STATIC_POD_ARGS: ArgTable<StaticPodArgs> = {
  staticPodManifestsDir: "it is written into the node commands",
};

/** The pod arguments, checked, with every default filled in (internal). */
export interface ResolvedPods extends ResolvedWorkload {
  image: Input<string>;
  imagePullPolicy: Input<ImagePullPolicy>;
  imagePullSecrets: Input<string>[];
  runAsUser: number;
  runAsGroup: number;
  replicas: number;
  resources: Input<k8s.types.input.core.v1.ResourceRequirements>;
  nodeSelector: Record<string, Input<string>>;
  tolerations?: Input<Input<k8s.types.input.core.v1.Toleration>[]>;
  affinity?: Input<k8s.types.input.core.v1.Affinity>;
  priorityClassName?: Input<string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  staticPodManifestsDir?: string;
}

/**
 * Checks the pod arguments (and, through `checkWorkload`, what the kind rules
 * out among the others), pushing every problem. `registryImage` is the name
 * of the archived registry image the nodes import, the default `image` then.
 */
export function checkPods(
  args: PodArgs & StaticPodArgs,
  registryImage: string | undefined,
  problems: string[],
): ResolvedPods {
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
  const replicas = args.replicas ?? 1;
  if (!isOutputOrPromise(replicas) && (!isInt(replicas) || replicas < 1))
    problems.push(`replicas must be a whole number >= 1, not ${args.replicas}`);
  const runAsUser = args.runAsUser ?? DEFAULT_UID;
  const runAsGroup = args.runAsGroup ?? DEFAULT_GID;
  if (!isOutputOrPromise(runAsUser) && (!isInt(runAsUser) || runAsUser < 1))
    problems.push(`runAsUser must be a non-root UID (>= 1), not ${args.runAsUser}`);
  if (!isOutputOrPromise(runAsGroup) && (!isInt(runAsGroup) || runAsGroup < 1))
    problems.push(`runAsGroup must be a non-root GID (>= 1), not ${args.runAsGroup}`);
  const imagePullPolicy = args.imagePullPolicy ?? ImagePullPolicy.IfNotPresent;
  const policy = known(imagePullPolicy);
  if (policy !== undefined && !(PULL_POLICIES as readonly string[]).includes(policy)) {
    problems.push(`imagePullPolicy must be one of ${PULL_POLICIES.join(", ")}, not "${policy}"`);
  }
  const image = args.image ?? registryImage ?? DEFAULT_IMAGE;
  if (known(image) === "") problems.push("image must not be empty");
  checkLabels("labels", known(args.labels), problems);
  checkLabels("nodeSelector", known(args.nodeSelector), problems);
  checkAnnotations("annotations", known(args.annotations), problems);
  const pullSecrets = known(args.imagePullSecrets);
  if (pullSecrets !== undefined && !Array.isArray(pullSecrets))
    problems.push("imagePullSecrets must be a list of secret names");
  for (const s of Array.isArray(pullSecrets) ? pullSecrets : []) {
    const k = known(s);
    if (!isOutputOrPromise(s) && (typeof k !== "string" || k === ""))
      problems.push("imagePullSecrets must be secret names");
  }
  return {
    image,
    imagePullPolicy,
    imagePullSecrets: args.imagePullSecrets ?? [],
    runAsUser,
    runAsGroup,
    ...workload,
    replicas,
    resources: args.resources ?? DEFAULT_RESOURCES,
    nodeSelector: args.nodeSelector ?? {},
    tolerations: args.tolerations,
    affinity: args.affinity,
    priorityClassName: args.priorityClassName,
    labels: args.labels ?? {},
    annotations: args.annotations ?? {},
    staticPodManifestsDir: args.staticPodManifestsDir,
  };
}
