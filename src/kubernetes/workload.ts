/**
 * The pods: nginx read-only in every sense with its drift guard init
 * container, run by a Deployment (with its PodDisruptionBudget) or by a
 * DaemonSet (one pod per node, on the node's network, so that every node
 * pulls from itself), and the Service in front of them.
 *
 * These are pure builders of Kubernetes specs (plain objects holding Pulumi
 * Inputs); the component registers them. Keeping them pure lets tests check
 * the specs directly and lets the pod simulation run exactly what a kubelet
 * would. The static pod (staticPod.ts) reuses the containers built here.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { Workload, type ResolvedArgs } from "./args";
import { commonLabels, selectorLabels } from "./labels";
import { METRICS_PORT_NAME, prometheusAnnotations } from "./metrics";
import { IMAGES_VOLUME, pinnedScheduling } from "./storage";
import { tlsMount, tlsVolume } from "./tls";

type PodTemplateSpec = k8s.types.input.core.v1.PodTemplateSpec;
type Container = k8s.types.input.core.v1.Container;
type Volume = k8s.types.input.core.v1.Volume;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;
type Probe = k8s.types.input.core.v1.Probe;
type Toleration = k8s.types.input.core.v1.Toleration;

/**
 * A DaemonSet's pods also belong on control-plane nodes, which pull images
 * too: without tolerations of its own, the DaemonSet tolerates their taint.
 */
export const CONTROL_PLANE_TOLERATIONS: Toleration[] = [
  { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
];

/**
 * Where things live inside the pod. The nginx config is rendered for these
 * paths; the volumes are mounted at them.
 */
export const POD_PATHS = {
  /** The rendered files (all ConfigMaps projected into one directory), read-only. */
  config: "/etc/static-container-registry",
  /** The images, read-only. */
  images: "/srv/static-container-registry",
  /** nginx's prefix: pid file and temp dirs, on an emptyDir (the root fs is read-only). */
  runtime: "/run/static-container-registry",
} as const;

export const CONFIG_VOLUME = "config";
export const SCRATCH_VOLUME = "scratch";
export const NGINX_CONTAINER = "nginx";
export const DRIFT_GUARD_CONTAINER = "drift-guard";

/** Pod template annotation whose change rolls the pods when config or images change. */
export const CONTENT_HASH_ANNOTATION = "static-container-registry/content-hash";

/** How big nginx's scratch space may grow (pid file; temp files are not used for GET/HEAD). */
export const SCRATCH_SIZE_LIMIT = "64Mi";

/** The nginx command line: config from the projected dir, prefix on the scratch volume, logs to stderr. */
export function nginxCommand(mainFile: string): string[] {
  // -e stderr: nginx opens its compiled-in error log path before reading the
  // config; on a read-only root fs that would print an alert at every start.
  return ["nginx", "-c", `${POD_PATHS.config}/${mainFile}`, "-p", `${POD_PATHS.runtime}/`, "-e", "stderr"];
}

/** The drift guard command: the script and its lists are in the config dir. */
export function driftGuardCommand(scriptFile: string): string[] {
  return ["sh", `${POD_PATHS.config}/${scriptFile}`, POD_PATHS.images, POD_PATHS.config];
}

/**
 * The container security context of the restricted Pod Security level, and
 * then some: fixed non-root IDs, read-only root, no capabilities at all.
 */
export function containerSecurityContext(a: Pick<ResolvedArgs, "runAsUser" | "runAsGroup">): SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: a.runAsUser,
    runAsGroup: a.runAsGroup,
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

function probe(kind: "readiness" | "liveness", https: boolean): Probe {
  // /v2/ is answered by nginx from memory: cheap, and it proves the config loaded.
  // With TLS the port refuses plain HTTP; the kubelet does not verify the certificate.
  const httpGet = { path: "/v2/", port: "http", scheme: https ? "HTTPS" : "HTTP" };
  return kind === "readiness"
    ? { httpGet, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2, successThreshold: 1 }
    : {
        httpGet,
        initialDelaySeconds: 5,
        periodSeconds: 10,
        timeoutSeconds: 3,
        failureThreshold: 3,
        successThreshold: 1,
      };
}

export interface PodInputs {
  /** Component resource name (the `app.kubernetes.io/instance` label). */
  name: string;
  args: ResolvedArgs;
  /** Names of the ConfigMaps holding the rendered files, in shard order. */
  configMapNames: pulumi.Input<string>[];
  /** The images volume (named {@link IMAGES_VOLUME}). */
  imagesVolume: Volume;
  /** Hash of every rendered file: changes whenever the config or the images change. */
  contentHash: string;
  /** File names of nginx's main config and of the drift guard script in the config dir. */
  nginxMain: string;
  driftGuardMain: string;
}

/** The pod's volumes: config (projected ConfigMaps), images (read-only), scratch (emptyDir). */
export function podVolumes(
  p: Pick<PodInputs, "configMapNames" | "imagesVolume"> & { args?: Pick<ResolvedArgs, "tls"> },
): Volume[] {
  return [
    {
      name: CONFIG_VOLUME,
      projected: {
        // Files readable by anyone in the pod, writable by no one.
        defaultMode: 0o444,
        sources: p.configMapNames.map((name) => ({ configMap: { name } })),
      },
    },
    p.imagesVolume,
    { name: SCRATCH_VOLUME, emptyDir: { sizeLimit: SCRATCH_SIZE_LIMIT } },
    ...(p.args?.tls ? [tlsVolume(p.args.tls)] : []),
  ];
}

/** What the containers need to know: the image and user from the args, the config's file names. */
export type ContainerInputs = {
  args: Pick<ResolvedArgs, "image" | "imagePullPolicy" | "runAsUser" | "runAsGroup" | "port" | "resources"> &
    Partial<Pick<ResolvedArgs, "hostNetwork" | "workload" | "tls" | "metricsPort">>;
} & Pick<PodInputs, "nginxMain" | "driftGuardMain">;

/**
 * The drift guard init container and the nginx container. The volumes they
 * mount ({@link CONFIG_VOLUME}, {@link IMAGES_VOLUME}, {@link SCRATCH_VOLUME})
 * are the pod's to define: projected ConfigMaps in a Deployment or DaemonSet,
 * directories on the node in a static pod.
 */
export function registryContainers(p: ContainerInputs): {
  initContainers: Container[];
  containers: Container[];
} {
  const a = p.args;
  const security = containerSecurityContext(a);
  const configMount = { name: CONFIG_VOLUME, mountPath: POD_PATHS.config, readOnly: true };
  const imagesMount = { name: IMAGES_VOLUME, mountPath: POD_PATHS.images, readOnly: true };
  // On the host network the container port is the node's port; a DaemonSet
  // off the host network claims it as a hostPort, so nodes still reach their own pod.
  const onNodePort = a.hostNetwork === true || a.workload === Workload.DaemonSet;

  const driftGuard: Container = {
    name: DRIFT_GUARD_CONTAINER,
    image: a.image,
    imagePullPolicy: a.imagePullPolicy,
    command: driftGuardCommand(p.driftGuardMain),
    securityContext: security,
    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } },
    volumeMounts: [configMount, imagesMount],
    terminationMessagePolicy: "FallbackToLogsOnError",
  };

  const nginx: Container = {
    name: NGINX_CONTAINER,
    image: a.image,
    imagePullPolicy: a.imagePullPolicy,
    command: nginxCommand(p.nginxMain),
    ports: [
      {
        name: "http",
        containerPort: a.port,
        protocol: "TCP",
        ...(onNodePort ? { hostPort: a.port } : {}),
      },
      ...(a.metricsPort !== undefined
        ? [{ name: METRICS_PORT_NAME, containerPort: a.metricsPort, protocol: "TCP" }]
        : []),
    ],
    readinessProbe: probe("readiness", a.tls !== undefined),
    livenessProbe: probe("liveness", a.tls !== undefined),
    // Give endpoints time to drop this pod before nginx stops accepting connections.
    lifecycle: { preStop: { exec: { command: ["sleep", "5"] } } },
    resources: a.resources,
    securityContext: security,
    volumeMounts: [
      configMount,
      imagesMount,
      { name: SCRATCH_VOLUME, mountPath: POD_PATHS.runtime },
      ...(a.tls ? [tlsMount] : []),
    ],
    terminationMessagePolicy: "FallbackToLogsOnError",
  };
  return { initContainers: [driftGuard], containers: [nginx] };
}

/** The pod-level security context: non-root with fixed IDs and the runtime's seccomp profile. */
export function podSecurityContext(
  a: Pick<ResolvedArgs, "runAsUser" | "runAsGroup">,
): k8s.types.input.core.v1.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: a.runAsUser,
    runAsGroup: a.runAsGroup,
    seccompProfile: { type: "RuntimeDefault" },
    // No fsGroup on purpose: it would make the kubelet chown the images
    // volume recursively (slow on big trees, impossible when read-only).
  };
}

/** The pod template of the Deployment or the DaemonSet. */
export function podTemplate(p: PodInputs): PodTemplateSpec {
  const a = p.args;
  const daemonSet = a.workload === Workload.DaemonSet;

  const { nodeSelector, affinity } = pinnedScheduling(a);
  const spread: k8s.types.input.core.v1.Affinity | undefined =
    !daemonSet && a.replicas > 1 && affinity === undefined
      ? {
          // Spread replicas over nodes so one node going away leaves the others serving.
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 100,
                podAffinityTerm: {
                  topologyKey: "kubernetes.io/hostname",
                  labelSelector: { matchLabels: selectorLabels(p.name) },
                },
              },
            ],
          },
        }
      : undefined;
  const tolerations = a.tolerations ?? (daemonSet ? CONTROL_PLANE_TOLERATIONS : undefined);

  return {
    metadata: {
      labels: commonLabels(p.name, "registry", a.labels),
      annotations: {
        ...a.annotations,
        ...prometheusAnnotations(a.metricsPort),
        [CONTENT_HASH_ANNOTATION]: p.contentHash,
      },
    },
    spec: {
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(a.hostNetwork ? { hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" } : {}),
      securityContext: podSecurityContext(a),
      ...registryContainers(p),
      volumes: podVolumes(p),
      ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}),
      ...(affinity !== undefined ? { affinity } : spread ? { affinity: spread } : {}),
      ...(tolerations !== undefined ? { tolerations } : {}),
      ...(a.priorityClassName !== undefined ? { priorityClassName: a.priorityClassName } : {}),
      ...(a.imagePullSecrets.length > 0
        ? { imagePullSecrets: a.imagePullSecrets.map((name) => ({ name })) }
        : {}),
      terminationGracePeriodSeconds: 30,
    },
  };
}

/**
 * The Deployment spec. Rolling updates surge one pod and never take one away
 * before its replacement is ready, except on the host network: there the new
 * pod needs the old one's port, so on a node that holds the only copy of the
 * images the old pod has to go first.
 */
export function deploymentSpec(p: PodInputs): k8s.types.input.apps.v1.DeploymentSpec {
  const a = p.args;
  return {
    replicas: a.replicas,
    selector: { matchLabels: selectorLabels(p.name) },
    strategy: {
      type: "RollingUpdate",
      rollingUpdate: a.hostNetwork ? { maxSurge: 0, maxUnavailable: 1 } : { maxSurge: 1, maxUnavailable: 0 },
    },
    revisionHistoryLimit: 3,
    // A pod that is ready but crashes right away should not count as progress.
    minReadySeconds: 5,
    template: podTemplate(p),
  };
}

/**
 * The DaemonSet spec: one registry pod per node that holds the images.
 *
 * Rolling updates replace one node's pod at a time, old pod first
 * (`maxSurge: 0`): the new pod needs the node port the old one holds (a
 * surge pod could never be scheduled next to it). While a node's pod rolls
 * (drift guard + start, a few seconds) that node's runtime finds no registry
 * on 127.0.0.1 and falls back to the upstream (failing in an air gap: the
 * kubelet retries the pull); every other node keeps pulling from its own pod.
 * `minReadySeconds` makes the roll wait until a new pod has stayed up before
 * moving on, so a broken config stops the roll at the first node.
 */
export function daemonSetSpec(p: PodInputs): k8s.types.input.apps.v1.DaemonSetSpec {
  return {
    selector: { matchLabels: selectorLabels(p.name) },
    updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } },
    revisionHistoryLimit: 3,
    minReadySeconds: 5,
    template: podTemplate({ ...p, args: { ...p.args, workload: Workload.DaemonSet } }),
  };
}

/** With more than one replica, voluntary disruptions (node drains) take at most one pod at a time. */
export function podDisruptionBudgetSpec(name: string): k8s.types.input.policy.v1.PodDisruptionBudgetSpec {
  return { maxUnavailable: 1, selector: { matchLabels: selectorLabels(name) } };
}

/**
 * The Service: exactly this instance's pods, port `http`, on any node. With a
 * DaemonSet too (no `internalTrafficPolicy: Local`): kube-proxy sends its
 * cluster IP to Ready pods only, which makes it the fallback of every node
 * whose own registry is down (src/nodes/fallback.ts).
 */
export function serviceSpec(
  name: string,
  a: Pick<ResolvedArgs, "serviceType" | "port" | "nodePort" | "workload"> &
    Partial<Pick<ResolvedArgs, "metricsPort">>,
): k8s.types.input.core.v1.ServiceSpec {
  return {
    type: a.serviceType,
    selector: selectorLabels(name),
    ports: [
      {
        name: "http",
        port: a.port,
        targetPort: "http",
        protocol: "TCP",
        ...(a.nodePort !== undefined ? { nodePort: a.nodePort } : {}),
      },
      ...(a.metricsPort !== undefined
        ? [{ name: METRICS_PORT_NAME, port: a.metricsPort, targetPort: METRICS_PORT_NAME, protocol: "TCP" }]
        : []),
    ],
  };
}
