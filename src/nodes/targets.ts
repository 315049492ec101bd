/**
 * The nodes the component reaches over SSH: who they are (a name for
 * messages and resource names, the Kubernetes node name the pods are pinned
 * to) and how to connect (@pulumi/command's remote connection). Checked with
 * every other argument at construction; the credentials are wrapped as
 * secrets before they reach any resource.
 */
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

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
}

/** A checked node target (internal). */
export interface NodeTarget {
  name: string;
  kubernetesNodeName: string;
  connection: pulumi.Input<RemoteConnection>;
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
    out.push({
      name: n.name,
      kubernetesNodeName: k8sName,
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
