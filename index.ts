/**
 * Example Pulumi program: deploys static-container-registry to the current
 * Kubernetes context for the images directory named in the stack config, and
 * exports what a platform team needs to wire the nodes to it.
 *
 *   pulumi config set imagesDir ./images
 *   pulumi config set hostPath /var/lib/images          # or: claimName, or nfsServer + nfsPath
 *   pulumi config set --path 'nodeNames[0]' node-1
 *   pulumi up
 *   pulumi stack output containerdHostsToml > hosts.toml
 *
 * Loaded by Pulumi's TypeScript loader (ts-node, CommonJS): see Pulumi.yaml.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { StaticContainerRegistry, type StaticContainerRegistryArgs } from "./src";

const config = new pulumi.Config();

// Relative paths are relative to the project (Pulumi runs the program there).
const imagesDir = path.resolve(config.require("imagesDir"));

// Storage: exactly one of hostPath, claimName, nfsServer+nfsPath (the component says so if not).
const hostPath = config.get("hostPath");
const nodeNames = config.getObject<string[]>("nodeNames");
const claimName = config.get("claimName");
const nfsServer = config.get("nfsServer");
const nfsPath = config.get("nfsPath");

const args: StaticContainerRegistryArgs = {
  imagesDir,
  namespace: config.get("namespace") ?? "static-container-registry",
  createNamespace: config.getBoolean("createNamespace") ?? true,
  hostPath: hostPath
    ? { path: hostPath, nodeNames, anyNode: nodeNames === undefined || nodeNames.length === 0 }
    : undefined,
  existingClaim: claimName ? { claimName } : undefined,
  persistentVolume:
    nfsServer || nfsPath
      ? { spec: { nfs: { server: nfsServer ?? "", path: nfsPath ?? "", readOnly: true } } }
      : undefined,
  serviceType: config.get("serviceType") ?? "NodePort",
  nodePort: config.getNumber("nodePort"),
  hostNetwork: config.getBoolean("hostNetwork") ?? false,
  replicas: config.getNumber("replicas") ?? 1,
  upstreamHost: config.get("upstreamHost"),
  image: config.get("image"),
  localRegistryHosting: config.getBoolean("localRegistryHosting") ?? false,
};

const registry = new StaticContainerRegistry("registry", args);

/** In-cluster `host:port` of the registry. */
export const endpoint = registry.endpoint;
/** `host:port` the nodes' container runtimes pull from. */
export const nodeEndpoint = registry.nodeEndpoint;
export const nodePort = registry.nodePort;
export const namespace = registry.namespace;
export const serviceName = registry.serviceName;
/** Put at /etc/containerd/certs.d/<upstreamHost>/hosts.toml on every node. */
export const containerdHostsToml = registry.hostsToml;
/** Merge into /etc/rancher/k3s/registries.yaml (or rke2's) on every node. */
export const registriesYaml = registry.registriesYaml;
export const upstreamHost = registry.upstreamHost;
export const repositories = registry.repositories;
export const totalBytes = registry.totalBytes;
