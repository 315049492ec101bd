/**
 * The nodes the component reaches over SSH (@pulumi/command): who they are (a
 * name for messages and resource names, the Kubernetes node name the pods are
 * pinned to) and how to connect; and the registry's own image as an archive
 * imported on each. Checked with every other argument at construction; the
 * credentials are wrapped as secrets before they reach any resource. What runs
 * on the nodes is src/nodes' (pure scripts); the commands are ../steps/nodes.ts.
 */
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import { archiveImageName } from "../../nodes/archive";
import { fileSha256 } from "../../nodes/delivery";
import { parseHostPort } from "../../hostPort";
import { known, type ArgTable } from "./common";

/** An IP address (IPv6 bare or bracketed) or a host name, without a port. */
function isHost(text: string): boolean {
  const hp = parseHostPort(
    /^[0-9a-fA-F:.]*:[0-9a-fA-F:.]*$/.test(text) && !text.startsWith("[") ? `[${text}]` : text,
  );
  return hp?.host !== undefined && hp.port === undefined;
}

export type RemoteConnection = command.types.input.remote.ConnectionArgs;

/** One node the registry's images, its own image and the runtime wiring are placed on. */
export interface NodeTargetArgs {
  /** A short name: used in resource names and in every message about this node. */
  name: string;
  /** The node's Kubernetes name (`kubernetes.io/hostname`); default `name`. The pods are pinned to these. */
  kubernetesNodeName?: string;
  /**
   * How to reach it: @pulumi/command's SSH connection (`host`, `port`, `user`,
   * `privateKey` or `password`, `proxy`, ...). The private key and password
   * are made secrets. Commands run as root: connect as root, or as a user
   * with password-less `sudo`.
   */
  connection: RemoteConnection;
  /**
   * Where the other nodes reach this node (an IP address or host name), for
   * the fallback endpoints of static pods: a node whose own registry is down
   * pulls from the others at `<address>:<port>`. Default `connection.host`
   * (set it when SSH goes through another address than the nodes use among
   * themselves).
   */
  address?: pulumi.Input<string>;
}

/** The registry's own image, for nodes that cannot pull it from anywhere. */
export interface RegistryImageArgs {
  /**
   * A local `docker-archive` or `oci-archive` file of the nginx image the pods
   * run (make one with `static-container-registry mirror --archive`, or
   * `skopeo copy docker://IMAGE oci-archive:FILE:IMAGE`). It is copied to each
   * of `nodes` and imported into the node's containerd (k3s/RKE2: also put in
   * the agent's images dir) before the pods start.
   */
  archive: string;
  /** The image name inside the archive, when the archive does not carry a full one. */
  name?: string;
}

/** The SSH nodes and what they get. */
export interface NodesArgs {
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

export const NODES_ARGS: ArgTable<NodesArgs> = {
  nodes: "it decides which nodes get commands",
  registryImage: "it decides which nodes get commands",
};

/** A checked node target (internal). */
export interface NodeTarget {
  name: string;
  kubernetesNodeName: string;
  connection: pulumi.Input<RemoteConnection>;
  /** Where the other nodes reach it (`address`, else the connection's host). */
  address: pulumi.Input<string>;
}

export interface ResolvedRegistryImage {
  archive: string;
  /** As containerd names it after the import (e.g. `docker.io/library/nginx:1.27`). */
  name: string;
  /** sha256 of the archive file, hex. */
  sha256: string;
}

export interface ResolvedNodeArgs {
  nodes: NodeTarget[];
  registryImage?: ResolvedRegistryImage;
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/;

/** Checks `nodes` (pushing onto `problems`) and returns them with defaults and secret credentials. */
export function checkNodes(nodes: NodeTargetArgs[] | undefined, problems: string[]): NodeTarget[] {
  if (nodes === undefined) return [];
  if (!Array.isArray(nodes)) {
    problems.push("nodes must be a list of { name, connection }");
    return [];
  }
  const seen = new Set<string>();
  const out: NodeTarget[] = [];
  nodes.forEach((n, i) => {
    const where = `nodes[${i}]`;
    if (!n || typeof n !== "object") {
      problems.push(`${where} must be { name, connection }`);
      return;
    }
    if (typeof n.name !== "string" || !NODE_NAME.test(n.name))
      problems.push(`${where}.name "${n.name}" must be lower-case letters, digits, '-' and '.' (at most 63)`);
    else if (seen.has(n.name)) problems.push(`${where}.name "${n.name}" is listed twice`);
    seen.add(n.name);
    const k8sName = n.kubernetesNodeName ?? n.name;
    if (typeof k8sName !== "string" || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(k8sName))
      problems.push(`${where}.kubernetesNodeName "${k8sName}" is not a valid node name`);
    const c = n.connection;
    if (!c || typeof c !== "object") {
      problems.push(`${where} (${n.name}): connection is required (host, user, privateKey or password)`);
      return;
    }
    if (c.host === undefined || c.host === "")
      problems.push(`${where} (${n.name}): connection.host is required`);
    if (typeof c.port === "number" && (!Number.isInteger(c.port) || c.port < 1 || c.port > 65535))
      problems.push(`${where} (${n.name}): connection.port ${c.port} is not a TCP port`);
    const address = known(n.address);
    if (n.address !== undefined && address !== undefined && !isHost(address))
      problems.push(`${where} (${n.name}): address "${address}" is not an IP address or host name`);
    out.push({
      name: n.name,
      kubernetesNodeName: k8sName,
      address: n.address ?? pulumi.output(c.host),
      connection: {
        ...c,
        ...(c.privateKey !== undefined ? { privateKey: pulumi.secret(c.privateKey) } : {}),
        ...(c.password !== undefined ? { password: pulumi.secret(c.password) } : {}),
        ...(c.privateKeyPassword !== undefined
          ? { privateKeyPassword: pulumi.secret(c.privateKeyPassword) }
          : {}),
      },
    });
  });
  return out;
}

/** Checks `nodes` and `registryImage`, pushing every problem onto `problems`. */
export function checkNodeArgs(args: NodesArgs & { image?: unknown }, problems: string[]): ResolvedNodeArgs {
  const nodes = checkNodes(args.nodes, problems);
  const ri = args.registryImage;
  if (ri === undefined) return { nodes };
  if (args.image !== undefined) problems.push("set image or registryImage, not both");
  if (nodes.length === 0)
    problems.push("registryImage needs nodes: the archive is imported on each node over SSH");
  if (!ri || typeof ri.archive !== "string" || ri.archive === "") {
    problems.push(
      "registryImage.archive is required: a docker-archive or oci-archive file of the nginx image",
    );
    return { nodes };
  }
  if (!fs.statSync(ri.archive, { throwIfNoEntry: false })?.isFile()) {
    problems.push(`registryImage.archive "${ri.archive}" is not a file`);
    return { nodes };
  }
  let name = ri.name;
  if (name === undefined) {
    try {
      name = archiveImageName(ri.archive);
    } catch (e) {
      problems.push(`registryImage.archive: ${(e as Error).message}`);
      return { nodes };
    }
  }
  return { nodes, registryImage: { archive: ri.archive, name, sha256: fileSha256(ri.archive) } };
}

/**
 * `args` as the component records them (its own inputs, kept in the stack's
 * state): with the nodes' credentials as secrets, so that a private key given
 * as a plain string is never stored in plain text.
 */
export function withSecretCredentials<T extends NodesArgs>(args: T, nodes: NodeTarget[]): T {
  if (args.nodes === undefined) return args;
  return {
    ...args,
    nodes: nodes.map((n) => {
      const address = args.nodes?.find((given) => given.name === n.name)?.address;
      return {
        name: n.name,
        kubernetesNodeName: n.kubernetesNodeName,
        connection: n.connection,
        ...(address !== undefined ? { address } : {}),
      };
    }),
  };
}
