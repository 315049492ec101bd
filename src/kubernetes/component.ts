/**
 * The Pulumi component: one resource that deploys the registry.
 *
 *   StaticContainerRegistry (static-container-registry:index:StaticContainerRegistry)
 *   ├── Namespace                      (createNamespace)
 *   ├── PersistentVolume + Claim       (persistentVolume storage)
 *   ├── ConfigMap × N                  (rendered files, ≤ maxConfigMapBytes each)
 *   ├── Deployment                     (drift guard init container + nginx)
 *   ├── PodDisruptionBudget            (replicas > 1)
 *   ├── Service
 *   └── ConfigMap kube-public/local-registry-hosting   (localRegistryHosting)
 *
 * The images dir is scanned when the component is constructed; how many
 * ConfigMaps there are depends on it, so the children are registered once the
 * scan is done (Pulumi's async `initialize`), and the outputs resolve then.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { InventorySummary } from "../inventory/model";
import { podSecurityLevel, validateArgs, type ResolvedArgs, type StaticContainerRegistryArgs } from "./args";
import { annotationsOrNone, commonLabels } from "./labels";
import { containerdHostsToml, localRegistryHostingV1, registriesYaml } from "./nodeWiring";
import { planRegistry, type RegistryPlan } from "./plan";
import { claimVolume, createVolumeAndClaim, hostPathVolume } from "./storage";
import { deploymentSpec, podDisruptionBudgetSpec, serviceSpec } from "./workload";

export const STATIC_CONTAINER_REGISTRY_TYPE = "static-container-registry:index:StaticContainerRegistry";

/** A tag served by the registry and the digest it resolves to. */
export interface ServedTag {
  tag: string;
  digest: string;
}

/** A repository served by the registry (name as clients use it, prefix included). */
export interface ServedRepository {
  name: string;
  tags: ServedTag[];
}

/** What `initialize` hands to the constructor. */
interface Built {
  namespace: pulumi.Output<string>;
  serviceName: pulumi.Output<string>;
  deploymentName: pulumi.Output<string>;
  endpoint: pulumi.Output<string>;
  nodeEndpoint: pulumi.Output<string>;
  nodePort: pulumi.Output<number | undefined>;
  configMapNames: pulumi.Output<string[]>;
  hostsToml: pulumi.Output<string>;
  registriesYaml: pulumi.Output<string>;
  repositories: ServedRepository[];
  summary: InventorySummary;
  contentHash: string;
}

// The constructor validates the args synchronously (so mistakes fail at
// construction, with every problem listed) and hands the resolved form to
// `initialize`, which the base class calls with the very same args object.
const resolvedArgs = new WeakMap<object, ResolvedArgs>();

function checked(name: string, args: StaticContainerRegistryArgs): StaticContainerRegistryArgs {
  const resolved = validateArgs(name, args);
  resolvedArgs.set(args, resolved);
  return args;
}

/** `host:port`, bracketing IPv6 addresses. */
function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * A read-only OCI/Docker registry served by plain nginx from a directory of
 * images, deployed to Kubernetes. See {@link StaticContainerRegistryArgs}.
 */
export class StaticContainerRegistry extends pulumi.ComponentResource<Built> {
  /** Namespace of the Service, Deployment and ConfigMaps. */
  public readonly namespace: pulumi.Output<string>;
  /** Name of the Service. */
  public readonly serviceName: pulumi.Output<string>;
  /** Name of the Deployment. */
  public readonly deploymentName: pulumi.Output<string>;
  /** In-cluster endpoint `host:port` (the Service's DNS name). */
  public readonly endpoint: pulumi.Output<string>;
  /** `host:port` the nodes' container runtimes use (see `nodeEndpoint` in the args). */
  public readonly nodeEndpoint: pulumi.Output<string>;
  /** The Service's node port, for NodePort and LoadBalancer services. */
  public readonly nodePort: pulumi.Output<number | undefined>;
  /** Names of the ConfigMaps holding the rendered config, in order. */
  public readonly configMapNames: pulumi.Output<string[]>;
  /** Repositories and tags served, with the digest each tag resolves to. */
  public readonly repositories: pulumi.Output<ServedRepository[]>;
  /** Totals of what is served (repositories, tags, manifests, blobs, bytes). */
  public readonly summary: pulumi.Output<InventorySummary>;
  /** Bytes of unique manifests and blobs served. */
  public readonly totalBytes: pulumi.Output<number>;
  /** sha256 of the rendered files, as annotated on the pod template. */
  public readonly contentHash: pulumi.Output<string>;
  /** containerd `hosts.toml` for `/etc/containerd/certs.d/<upstreamHost>/hosts.toml`. */
  public readonly hostsToml: pulumi.Output<string>;
  /** k3s / RKE2 `registries.yaml` mirror entry. */
  public readonly registriesYaml: pulumi.Output<string>;
  /** The upstream host the node wiring redirects. */
  public readonly upstreamHost: pulumi.Output<string>;

  constructor(name: string, args: StaticContainerRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super(STATIC_CONTAINER_REGISTRY_TYPE, name, checked(name, args), opts);
    const data = this.getData();
    const out = <T>(pick: (b: Built) => pulumi.Input<T>): pulumi.Output<T> =>
      pulumi.output(data.then(pick)) as pulumi.Output<T>;
    this.namespace = out((b) => b.namespace);
    this.serviceName = out((b) => b.serviceName);
    this.deploymentName = out((b) => b.deploymentName);
    this.endpoint = out((b) => b.endpoint);
    this.nodeEndpoint = out((b) => b.nodeEndpoint);
    this.nodePort = out((b) => b.nodePort);
    this.configMapNames = out((b) => b.configMapNames);
    this.repositories = out((b) => b.repositories);
    this.summary = out((b) => b.summary);
    this.totalBytes = out((b) => b.summary.bytes);
    this.contentHash = out((b) => b.contentHash);
    this.hostsToml = out((b) => b.hostsToml);
    this.registriesYaml = out((b) => b.registriesYaml);
    this.upstreamHost = pulumi.output(resolvedArgs.get(args)!.upstreamHost);
  }

  /** Scans, renders and registers the children (called by the base class constructor). */
  protected async initialize(
    args: pulumi.Inputs,
    _opts?: pulumi.ComponentResourceOptions,
    name?: string,
  ): Promise<Built> {
    const a = resolvedArgs.get(args);
    if (!a || !name) throw new Error("internal: StaticContainerRegistry args were not validated");
    const plan = await planRegistry(name, a);
    const built = this.build(name, a, plan);
    this.registerOutputs({
      namespace: built.namespace,
      serviceName: built.serviceName,
      deploymentName: built.deploymentName,
      endpoint: built.endpoint,
      nodeEndpoint: built.nodeEndpoint,
      nodePort: built.nodePort,
      configMapNames: built.configMapNames,
      repositories: built.repositories,
      summary: built.summary,
      totalBytes: built.summary.bytes,
      contentHash: built.contentHash,
      hostsToml: built.hostsToml,
      registriesYaml: built.registriesYaml,
      upstreamHost: a.upstreamHost,
    });
    return built;
  }

  private build(name: string, a: ResolvedArgs, plan: RegistryPlan): Built {
    const child: pulumi.CustomResourceOptions = { parent: this };
    const level = podSecurityLevel(a);

    // Namespace: created (and labelled with the strictest Pod Security level
    // the mode allows), or an existing one taken by name.
    let namespace: pulumi.Output<string>;
    if (a.createNamespace) {
      const ns = new k8s.core.v1.Namespace(
        `${name}-ns`,
        {
          metadata: {
            name: a.namespace,
            labels: {
              ...commonLabels(name, "namespace", a.labels),
              "pod-security.kubernetes.io/enforce": level,
              "pod-security.kubernetes.io/enforce-version": "latest",
              // Even where the mode needs "privileged", warn about anything beyond "restricted".
              "pod-security.kubernetes.io/warn": "restricted",
              "pod-security.kubernetes.io/warn-version": "latest",
            },
            annotations: annotationsOrNone(a.annotations),
          },
        },
        child,
      );
      namespace = ns.metadata.name;
    } else {
      namespace = pulumi.output(a.namespace);
    }

    // Images volume.
    let imagesVolume: k8s.types.input.core.v1.Volume;
    const dependsOn: pulumi.Resource[] = [];
    if (a.storage === "hostPath") {
      imagesVolume = hostPathVolume(a.hostPath!);
    } else if (a.storage === "existingClaim") {
      imagesVolume = claimVolume(a.existingClaim!.claimName);
    } else {
      const created = createVolumeAndClaim(
        name,
        a.persistentVolume!,
        a,
        namespace,
        plan.summary.bytes,
        child,
      );
      imagesVolume = claimVolume(created.claim.metadata.name);
      dependsOn.push(created.claim);
    }

    // Rendered files. Auto-named and immutable: a change creates new
    // ConfigMaps, the Deployment then points at them (rolling the pods), and the
    // old ones go away after the rollout.
    const configMaps = plan.shards.map(
      (shard) =>
        new k8s.core.v1.ConfigMap(
          `${name}-config-${shard.index}`,
          {
            metadata: {
              namespace,
              labels: commonLabels(name, "config", a.labels),
              annotations: annotationsOrNone(a.annotations),
            },
            immutable: true,
            data: shard.files,
          },
          child,
        ),
    );
    const configMapNames = configMaps.map((cm) => cm.metadata.name);

    const podInputs = {
      name,
      args: a,
      configMapNames,
      imagesVolume,
      contentHash: plan.contentHash,
      nginxMain: plan.nginxMain,
      driftGuardMain: plan.driftGuardMain,
    };
    const labels = commonLabels(name, "registry", a.labels);
    const deployment = new k8s.apps.v1.Deployment(
      name,
      {
        metadata: { namespace, labels, annotations: annotationsOrNone(a.annotations) },
        spec: deploymentSpec(podInputs),
      },
      { ...child, dependsOn },
    );

    if (a.replicas > 1) {
      new k8s.policy.v1.PodDisruptionBudget(
        name,
        {
          metadata: { namespace, labels, annotations: annotationsOrNone(a.annotations) },
          spec: podDisruptionBudgetSpec(name),
        },
        child,
      );
    }

    // A fixed name, so that the in-cluster endpoint is predictable.
    const service = new k8s.core.v1.Service(
      name,
      {
        metadata: {
          name,
          namespace,
          labels,
          annotations: annotationsOrNone(a.annotations, a.serviceAnnotations),
        },
        spec: serviceSpec(name, a),
      },
      child,
    );

    const endpoint = pulumi.interpolate`${service.metadata.name}.${service.metadata.namespace}.svc.${a.clusterDomain}:${a.port}`;
    const nodePort: pulumi.Output<number | undefined> =
      a.serviceType === "NodePort" || a.serviceType === "LoadBalancer"
        ? service.spec.ports.apply((ports) => ports[0]?.nodePort ?? a.nodePort)
        : pulumi.output(undefined);
    const nodeEndpoint = this.nodeEndpointOf(a, service, nodePort);

    const wiring = { upstreamHost: a.upstreamHost, namePrefix: a.namePrefix };
    const hostsToml = nodeEndpoint.apply((endpoint) => containerdHostsToml({ ...wiring, endpoint }));
    const registries = nodeEndpoint.apply((endpoint) => registriesYaml({ ...wiring, endpoint }));

    if (a.localRegistryHosting) {
      new k8s.core.v1.ConfigMap(
        `${name}-local-registry-hosting`,
        {
          // KEP-1755: one well-known ConfigMap per cluster.
          metadata: {
            name: "local-registry-hosting",
            namespace: "kube-public",
            labels: commonLabels(name, "discovery", a.labels),
          },
          data: {
            "localRegistryHosting.v1": pulumi.all([nodeEndpoint, endpoint]).apply(([ne, ep]) =>
              localRegistryHostingV1({
                host: ne,
                hostFromClusterNetwork: ep,
                hostFromContainerRuntime: ne,
                help: "https://www.npmjs.com/package/static-container-registry (read-only: pull only)",
              }),
            ),
          },
        },
        child,
      );
    }

    const prefix = a.namePrefix;
    return {
      namespace: service.metadata.namespace,
      serviceName: service.metadata.name,
      deploymentName: deployment.metadata.name,
      endpoint,
      nodeEndpoint,
      nodePort,
      configMapNames: pulumi.all(configMapNames),
      hostsToml,
      registriesYaml: registries,
      repositories: plan.inventory.repositories.map((r) => ({
        name: `${prefix}${r.name}`,
        tags: r.tags.map((t) => ({ tag: t.name, digest: t.digest })),
      })),
      summary: plan.summary,
      contentHash: plan.contentHash,
    };
  }

  /** Where the nodes' container runtime reaches the registry (see the `nodeEndpoint` arg). */
  private nodeEndpointOf(
    a: ResolvedArgs,
    service: k8s.core.v1.Service,
    nodePort: pulumi.Output<number | undefined>,
  ): pulumi.Output<string> {
    if (a.nodeEndpoint !== undefined) return pulumi.output(a.nodeEndpoint);
    if (a.hostNetwork) return pulumi.output(hostPort("127.0.0.1", a.port));
    // kube-proxy answers node ports on the node's loopback too (iptables and ipvs modes).
    if (a.serviceType === "NodePort") return nodePort.apply((np) => hostPort("127.0.0.1", np ?? a.port));
    return pulumi.all([service.spec.clusterIP, service.status]).apply(([clusterIP, status]) => {
      const ingress = a.serviceType === "LoadBalancer" ? status?.loadBalancer?.ingress?.[0] : undefined;
      const host = ingress?.ip || ingress?.hostname || clusterIP;
      return hostPort(host, a.port);
    });
  }
}
