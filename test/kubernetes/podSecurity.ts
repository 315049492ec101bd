/**
 * The Pod Security Standards ("baseline" and "restricted", latest version) as
 * checks on a pod spec, offline. Each violation names the rule as the
 * admission controller's messages do. Written from the published standard:
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/
 */

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * The securityContext every container of the registry's pods must have, as
 * the component's tests expect it field by field: non-root 101:101, no
 * capabilities, no privilege escalation, a read-only root, RuntimeDefault
 * seccomp (what "restricted" asks, and more).
 */
export const REGISTRY_CONTAINER_SECURITY = {
  runAsNonRoot: true,
  runAsUser: 101,
  runAsGroup: 101,
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

const BASELINE_CAPABILITIES = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
]);
const RESTRICTED_VOLUME_TYPES = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
]);

function containersOf(spec: any): any[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
}

/** Violations of the baseline level. */
export function baselineViolations(spec: any): string[] {
  const v: string[] = [];
  if (spec.hostNetwork) v.push("host namespaces: hostNetwork=true");
  if (spec.hostPID) v.push("host namespaces: hostPID=true");
  if (spec.hostIPC) v.push("host namespaces: hostIPC=true");
  for (const vol of spec.volumes ?? []) if (vol.hostPath) v.push(`hostPath volumes: ${vol.name}`);
  for (const c of containersOf(spec)) {
    const sc = c.securityContext ?? {};
    if (sc.privileged) v.push(`privileged: ${c.name}`);
    for (const cap of sc.capabilities?.add ?? []) {
      if (!BASELINE_CAPABILITIES.has(cap)) v.push(`capabilities: ${c.name} adds ${cap}`);
    }
    for (const p of c.ports ?? []) if (p.hostPort) v.push(`hostPorts: ${c.name} ${p.hostPort}`);
    if (sc.procMount && sc.procMount !== "Default") v.push(`procMount: ${c.name}`);
    if (sc.seccompProfile?.type === "Unconfined") v.push(`seccomp: ${c.name} Unconfined`);
    if (sc.appArmorProfile?.type === "Unconfined") v.push(`AppArmor: ${c.name}`);
    const t = sc.seLinuxOptions?.type;
    if (t && !["container_t", "container_init_t", "container_kvm_t", "container_engine_t"].includes(t)) {
      v.push(`SELinux: ${c.name} type ${t}`);
    }
    if (sc.seLinuxOptions?.user || sc.seLinuxOptions?.role) v.push(`SELinux: ${c.name} user/role`);
  }
  const psc = spec.securityContext ?? {};
  if (psc.seccompProfile?.type === "Unconfined") v.push("seccomp: pod Unconfined");
  for (const s of psc.sysctls ?? []) if (!SAFE_SYSCTLS.has(s.name)) v.push(`sysctls: ${s.name}`);
  return v;
}

/** Violations of the restricted level (which includes baseline). */
export function restrictedViolations(spec: any): string[] {
  const v = baselineViolations(spec);
  for (const vol of spec.volumes ?? []) {
    const types = Object.keys(vol).filter((k) => k !== "name");
    for (const t of types) if (!RESTRICTED_VOLUME_TYPES.has(t)) v.push(`volume types: ${vol.name} is ${t}`);
  }
  const psc = spec.securityContext ?? {};
  if (psc.runAsUser === 0) v.push("runAsUser: pod runs as 0");
  for (const c of containersOf(spec)) {
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) v.push(`allowPrivilegeEscalation != false: ${c.name}`);
    const nonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
    if (nonRoot !== true) v.push(`runAsNonRoot != true: ${c.name}`);
    if (sc.runAsUser === 0) v.push(`runAsUser=0: ${c.name}`);
    const seccomp = sc.seccompProfile?.type ?? psc.seccompProfile?.type;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") v.push(`seccompProfile: ${c.name}`);
    const caps = sc.capabilities ?? {};
    if (!(caps.drop ?? []).includes("ALL")) v.push(`unrestricted capabilities: ${c.name} does not drop ALL`);
    for (const cap of caps.add ?? [])
      if (cap !== "NET_BIND_SERVICE") v.push(`unrestricted capabilities: ${c.name} adds ${cap}`);
  }
  return v;
}
