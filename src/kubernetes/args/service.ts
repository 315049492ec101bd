/**
 * How the registry is reached: the Service and its port, the host network,
 * the endpoint the nodes' container runtimes use, the upstream host their
 * wiring redirects to it, and the cluster domain of the in-cluster endpoint.
 */
import { parseHostPort } from "../../hostPort";
import {
  checkAnnotations,
  checkBooleans,
  DNS_LABEL_RE,
  isInt,
  isOutputOrPromise,
  known,
  type ArgTable,
  type Input,
} from "./common";

/** Registries conventionally listen on 5000. */
export const DEFAULT_PORT = 5000;

/**
 * Upstream host name the node wiring makes containerd / k3s redirect to this
 * registry when none is given. `.invalid` never resolves (RFC 2606), so a pull
 * of `static-container-registry.invalid/library/alpine:3.19` can only ever be
 * answered by the mirror.
 */
export const DEFAULT_UPSTREAM_HOST = "static-container-registry.invalid";

/** How the Service exposes the registry. */
export const ServiceType = {
  /** A cluster IP only; the nodes reach it through kube-proxy. */
  ClusterIP: "ClusterIP",
  /** A cluster IP plus a port on every node; the nodes' runtimes use `127.0.0.1:<nodePort>`. */
  NodePort: "NodePort",
  /** A cloud or MetalLB load balancer; the nodes' runtimes use its address. */
  LoadBalancer: "LoadBalancer",
} as const;
/** How the Service exposes the registry. */
export type ServiceType = (typeof ServiceType)[keyof typeof ServiceType];
export const SERVICE_TYPES = Object.values(ServiceType);

/** The Service, the network the pods use, and the endpoints derived from them. */
export interface ServiceArgs {
  /**
   * Service type. Default `ClusterIP`. Plain: decides where `nodeEndpoint` comes from.
   */
  serviceType?: ServiceType;
  /**
   * Name of the Service. Default: generated from the resource name with a
   * random suffix (like every other object), so that two instances never
   * collide in one namespace; the `endpoint` output always has the actual name.
   */
  serviceName?: Input<string>;
  /**
   * Port nginx listens on and the Service exposes: a whole number in
   * 1024-65535 (nginx has no capabilities). Default 5000. Plain: rendered into the nginx config.
   */
  port?: number;
  /**
   * Fixed node port (a whole number, usually 30000-32767) for `NodePort` /
   * `LoadBalancer` services. Default: allocated by the cluster.
   */
  nodePort?: Input<number>;
  /** Annotations for the Service only (e.g. load balancer settings). */
  serviceAnnotations?: Input<Record<string, Input<string>>>;
  /**
   * Run the pod in the node's network namespace, for a bootstrap node whose
   * container runtime must pull before the cluster network exists. The node
   * wiring then points at `127.0.0.1:<port>`. Violates the restricted and
   * baseline Pod Security levels. Default false, but true with workload `DaemonSet`.
   * Plain: decides the pod's shape and rollout.
   */
  hostNetwork?: boolean;

  /**
   * Upstream registry host the node wiring redirects to this registry, e.g.
   * `docker.io`, or a made-up `*.invalid` host. Default
   * `static-container-registry.invalid` (never resolves, so only the mirror can answer).
   * Plain: it names the wiring's files and mirror entries.
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
  clusterDomain?: Input<string>;
}

export const SERVICE_ARGS: ArgTable<ServiceArgs> = {
  serviceType: "it decides where nodeEndpoint comes from",
  serviceName: "input",
  port: "it is rendered into the nginx config",
  nodePort: "input",
  serviceAnnotations: "input",
  hostNetwork: "it decides the pods' network and rollout",
  upstreamHost: "it names the hosts.toml files and mirror entries of the wiring",
  nodeEndpoint: "input",
  clusterDomain: "input",
};

/** The Service arguments, checked, with every default filled in (internal; `hostNetwork` is resolved with the workload). */
export interface ResolvedService {
  serviceType: ServiceType;
  serviceName?: Input<string>;
  port: number;
  nodePort?: Input<number>;
  serviceAnnotations?: Input<Record<string, Input<string>>>;
  upstreamHost: string;
  nodeEndpoint?: Input<string>;
  clusterDomain: Input<string>;
}

/** Checks the Service and endpoint arguments, pushing every problem. */
export function checkService(args: ServiceArgs, problems: string[]): ResolvedService {
  checkAnnotations("serviceAnnotations", args.serviceAnnotations, problems);
  const port = args.port ?? DEFAULT_PORT;
  if (!isOutputOrPromise(port) && (!isInt(port) || port < 1024 || port > 65535)) {
    problems.push(
      `port must be a whole number in 1024-65535 (nginx runs without capabilities, so it cannot bind lower ports), not ${args.port}`,
    );
  }
  const serviceType = args.serviceType ?? ServiceType.ClusterIP;
  if (!isOutputOrPromise(serviceType) && !(SERVICE_TYPES as readonly string[]).includes(serviceType)) {
    problems.push(`serviceType must be one of ${SERVICE_TYPES.join(", ")}, not "${serviceType}"`);
  }
  if (args.nodePort !== undefined) {
    if (serviceType !== ServiceType.NodePort && serviceType !== ServiceType.LoadBalancer) {
      problems.push(`nodePort needs serviceType NodePort or LoadBalancer (serviceType is ${serviceType})`);
    }
    const np = known(args.nodePort);
    if (np !== undefined && (!isInt(np) || np < 1 || np > 65535)) {
      problems.push(`nodePort must be a port number (clusters allow 30000-32767 by default), not ${np}`);
    }
  }
  const sn = known(args.serviceName);
  if (sn !== undefined && (typeof sn !== "string" || !DNS_LABEL_RE.test(sn)))
    problems.push(`serviceName "${sn}" is not a valid Service name (a DNS label)`);
  const upstreamHost = args.upstreamHost ?? DEFAULT_UPSTREAM_HOST;
  const uh = known(upstreamHost);
  if (uh !== undefined && (typeof uh !== "string" || !parseHostPort(uh, { host: true }))) {
    problems.push(`upstreamHost must be a host name with an optional port (e.g. docker.io), not "${uh}"`);
  }
  const ne = known(args.nodeEndpoint);
  if (ne !== undefined && (typeof ne !== "string" || !parseHostPort(ne, { host: true })))
    problems.push(`nodeEndpoint must be host:port, not "${ne}"`);
  const clusterDomain = args.clusterDomain ?? "cluster.local";
  const cd = known(clusterDomain);
  if (cd !== undefined && (typeof cd !== "string" || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(cd)))
    problems.push(`clusterDomain "${cd}" is not a DNS name`);
  checkBooleans(args, ["hostNetwork"], problems);
  return {
    serviceType,
    serviceName: args.serviceName,
    port,
    nodePort: args.nodePort,
    serviceAnnotations: args.serviceAnnotations,
    upstreamHost,
    nodeEndpoint: args.nodeEndpoint,
    clusterDomain,
  };
}
