/**
 * The exact shell text of every step that runs on a node over SSH. Pure
 * functions of their arguments: the component registers these texts as the
 * `create` / `delete` of `command.remote.Command`s, and the e2e test runs the
 * very same texts on simulated nodes.
 *
 * Every value a script needs is in its text (quoted by src/shell.ts): sshd
 * drops environment requests other than LANG/LC_* on stock Debian and Ubuntu
 * nodes. Each script runs as root (`sudo -n` when the SSH user is not root)
 * under POSIX `sh`, whatever the user's login shell (nodeShell.ts).
 *
 * The images delivery and its layout on the node are in store.ts.
 */
import { SCRIPT_PRELUDE, shAtomicWriteTo, shQuote } from "../shell";
import { BACKUP_SUFFIX, GENERATED_MARKER } from "./files";
import { asRoot, failWith } from "./nodeShell";
import { shMergeRegistries, shUnmergeRegistries } from "./rancher";
import { markedCa } from "./keepWired";
import { prepareStoreLines } from "./store";

export { BACKUP_SUFFIX, GENERATED_MARKER, asRoot };
export { deliverScript, undeliverScript, incomingDir, setDir, type DeliveryScriptOptions } from "./store";

/** Node-side directory for the registry image archive and step markers. */
export const NODE_STATE_DIR = "/var/lib/static-container-registry";

/** Where the copy step puts the registry image archive on the node. */
export function registryImagePath(archiveSha256: string): string {
  return `${NODE_STATE_DIR}/registry-image-${archiveSha256.slice(0, 16)}.tar`;
}

// ---------------------------------------------------------------------------
// Delivery

/**
 * Prepares the node's directories (the images store; with `stateDir`, the dir
 * the registry image archive is copied to) and prints the objects it already
 * holds, one sha256 per line: the input of `stageMissing`.
 */
export function prepareScript(o: {
  node: string;
  hostPath?: string;
  setId?: string;
  stateDir?: boolean;
}): string {
  const lines = [SCRIPT_PRELUDE, failWith(o.node), "umask 022"];
  if (o.stateDir) {
    const d = shQuote(NODE_STATE_DIR);
    lines.push(`if [ ! -d ${d} ]; then mkdir -p ${d}; : >${d}/.created-by-static-container-registry; fi`);
  }
  if (o.hostPath !== undefined) lines.push(prepareStoreLines(o.hostPath, o.setId));
  return asRoot(lines.join("\n") + "\n");
}

/** The prepare step's delete (runs after every other step's): removes the node's state dir if prepare made it. */
export function unprepareScript(o: { node: string }): string {
  const d = shQuote(NODE_STATE_DIR);
  return asRoot(`${SCRIPT_PRELUDE}${failWith(o.node)}if [ -f ${d}/.created-by-static-container-registry ]; then
  rm -f ${d}/.created-by-static-container-registry
  rmdir ${d} 2>/dev/null || true
fi
`);
}

// ---------------------------------------------------------------------------
// The registry's own image

export interface ImportScriptOptions {
  node: string;
  /** Where the copy step put the archive on the node. */
  archive: string;
  /** The image name the archive holds, as containerd names it (`docker.io/library/nginx:1.27`). */
  image: string;
}

/** Shell lines that make `ctr` the node's: k3s's and RKE2's embedded containerd have their own. */
const USE_NODE_CTR = `if command -v k3s >/dev/null 2>&1; then ctr() { k3s ctr "$@"; }
elif command -v rke2 >/dev/null 2>&1 && [ -x /var/lib/rancher/rke2/bin/ctr ]; then
  ctr() { /var/lib/rancher/rke2/bin/ctr --address /run/k3s/containerd/containerd.sock "$@"; }
fi
`;

/** containerd (or k3s / RKE2's embedded one) learns the registry's image from the archive. */
export function importScript(o: ImportScriptOptions): string {
  return asRoot(`${SCRIPT_PRELUDE}${failWith(o.node)}A=${shQuote(o.archive)}
IMAGE=${shQuote(o.image)}
MARK="$A.imported"
[ -f "$A" ] || fail "the registry image archive was not copied to $A"
for d in /var/lib/rancher/k3s/agent/images /var/lib/rancher/rke2/agent/images; do
  if [ -d "\${d%/images}" ]; then
    # k3s / RKE2 import every archive in this dir when the agent starts.
    mkdir -p "$d"
    cp "$A" "$d/static-container-registry.tar"
    echo "$d/static-container-registry.tar" >"$MARK"
  fi
done
${USE_NODE_CTR}command -v ctr >/dev/null 2>&1 || fail "no ctr on the node: cannot import the registry image (install containerd's ctr)"
if ctr -n k8s.io images ls -q | grep -Fxq "$IMAGE"; then
  [ -f "$MARK" ] || echo preexisting >"$MARK"
else
  ctr -n k8s.io images import --all-platforms "$A" >&2 || fail "ctr could not import $A"
  [ -f "$MARK" ] || echo imported >"$MARK"
fi
ctr -n k8s.io images ls -q | grep -Fxq "$IMAGE" || fail "the archive does not hold $IMAGE (ctr images import named it otherwise)"
say "registry image $IMAGE is in containerd (namespace k8s.io)"
`);
}

/** Removes the imported image (unless it was there before) and the archive. */
export function unimportScript(o: ImportScriptOptions): string {
  return asRoot(`${SCRIPT_PRELUDE}${failWith(o.node)}A=${shQuote(o.archive)}
IMAGE=${shQuote(o.image)}
MARK="$A.imported"
how=$(cat "$MARK" 2>/dev/null || true)
${USE_NODE_CTR}case "$how" in
  imported)
    # containerd's CRI plugin also names every image by its id (sha256:<config digest>); that
    # name goes too, unless another name still refers to the same image.
    target=$(ctr -n k8s.io images ls 2>/dev/null | awk -v img="$IMAGE" '$1 == img { print $3 }')
    ctr -n k8s.io images rm "$IMAGE" >/dev/null 2>&1 || true
    if [ -n "$target" ]; then
      left=$(ctr -n k8s.io images ls 2>/dev/null | awk -v t="$target" '$3 == t { print $1 }')
      case "$left" in
        sha256:*) if ! printf '%s\n' "$left" | grep -qv '^sha256:'; then
            for ref in $left; do ctr -n k8s.io images rm "$ref" >/dev/null 2>&1 || true; done
          fi ;;
      esac
    fi
    ;;
  /*) rm -f "$how" ;;
esac
rm -f "$A" "$MARK"
say "registry image archive removed"
`);
}

// ---------------------------------------------------------------------------
// Runtime wiring

export interface WireScriptOptions {
  node: string;
  /** Upstream host → hosts.toml text. */
  hostsTomls: Record<string, string>;
  /**
   * The k3s/RKE2 `registries.yaml` document (a `mirrors:` entry per host), for
   * nodes that run k3s or RKE2 (found by `/etc/rancher/k3s` or `/etc/rancher/rke2`).
   */
  registriesYaml?: string;
  /** With TLS: the CA certificate the wiring points at (`ca`, `ca_file`), placed at `file`. */
  ca?: { file: string; pem: string };
}

/**
 * Shell text that places the CA certificate at `file` (behind the marker
 * line, atomically); a file that was there before (and is not ours) is kept
 * beside it and restored by {@link shRemoveCa}, a directory it needed is made
 * and removed with it.
 */
function shPlaceCa(ca: { file: string; pem: string }): string {
  const f = shQuote(ca.file);
  return `d=$(dirname ${f})
if [ ! -d "$d" ]; then mkdir -p "$d"; : >"$d/.created-by-static-container-registry"; fi
if [ -f ${f} ] && ! grep -qF ${shQuote(GENERATED_MARKER)} ${f} && [ ! -f ${shQuote(ca.file + BACKUP_SUFFIX)} ]; then
  cp -p ${f} ${shQuote(ca.file + BACKUP_SUFFIX)}
fi
${shAtomicWriteTo(f, markedCa(ca.pem))}
say "placed the registry's CA certificate at" ${f}
`;
}

/** The CA file as it was: restored from its backup, or removed (with the directory it needed). */
function shRemoveCa(file: string): string {
  const f = shQuote(file);
  return `d=$(dirname ${f})
if [ -f ${shQuote(file + BACKUP_SUFFIX)} ]; then mv -f ${shQuote(file + BACKUP_SUFFIX)} ${f}
elif [ -f ${f} ] && grep -qF ${shQuote(GENERATED_MARKER)} ${f}; then rm -f ${f}
fi
if [ -f "$d/.created-by-static-container-registry" ]; then
  rm -f "$d/.created-by-static-container-registry"
  rmdir "$d" 2>/dev/null || true
fi
`;
}

/** Shell lines that set `$rancher` to the node's k3s/RKE2 config dirs (empty on plain containerd). */
const FIND_RANCHER = `rancher=
for d in /etc/rancher/k3s /etc/rancher/rke2; do
  if [ -d "$d" ]; then rancher="$rancher $d"; fi
done
`;

const HOST_NAME = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/;

function checkHosts(hosts: Record<string, string>): void {
  for (const h of Object.keys(hosts))
    if (!HOST_NAME.test(h)) throw new Error(`node wiring: "${h}" is not a registry host name`);
}

/**
 * Shell lines that find containerd's hosts dir: the first entry of the CRI
 * registry `config_path` in /etc/containerd/config.toml (containerd 1.x v2
 * config and 2.x v3 config, where an unset value defaults to certs.d), or
 * fail naming the node and the one-line fix.
 */
const FIND_CERTS_DIR = `CONFIG=/etc/containerd/config.toml
certs=
if [ -f "$CONFIG" ]; then
  certs=$(awk '
    /^[[:space:]]*\\[/ { section = $0 }
    /^[[:space:]]*config_path[[:space:]]*=/ && section ~ /registry/ {
      v = $0; sub(/^[^=]*=[[:space:]]*/, "", v); gsub(/["\\047]/, "", v); sub(/[[:space:]]*(#.*)?$/, "", v)
      print v; exit
    }' "$CONFIG")
  if [ -z "$certs" ] && grep -Eq '^[[:space:]]*version[[:space:]]*=[[:space:]]*3' "$CONFIG"; then
    certs=/etc/containerd/certs.d
  fi
fi
certs=\${certs%%:*}
if [ -z "$certs" ]; then
  fail "containerd's CRI registry config_path is not set in $CONFIG, so containerd would ignore hosts.toml files. Fix: add  config_path = \\"/etc/containerd/certs.d\\"  under  [plugins.\\"io.containerd.grpc.v1.cri\\".registry]  in $CONFIG, then restart containerd (systemctl restart containerd)"
fi
`;

/**
 * Writes one hosts.toml per upstream host into containerd's hosts dir, each
 * atomically; a file that was there before (and is not ours) is kept beside
 * it and restored by {@link unwireScript}. containerd reads hosts.toml at each
 * pull: no restart.
 */
export function wireScript(o: WireScriptOptions): string {
  checkHosts(o.hostsTomls);
  const hosts = Object.keys(o.hostsTomls).sort();
  const parts = [SCRIPT_PRELUDE, failWith(o.node), "umask 022\n", FIND_RANCHER];
  // The CA before the wiring that points at it, once the node is known to be wireable.
  const ca = o.ca ? shPlaceCa(o.ca) : "";
  parts.push(`if [ -n "$rancher" ]; then\n`);
  parts.push(
    o.registriesYaml !== undefined
      ? ca + shMergeRegistries(o.registriesYaml)
      : `fail "this node runs k3s/RKE2 ($rancher) but no registries.yaml was given"\n`,
  );
  parts.push(`else\n`, FIND_CERTS_DIR, ca);
  for (const host of hosts) {
    parts.push(
      `d="$certs"/${shQuote(host)}
if [ ! -d "$d" ]; then mkdir -p "$d"; : >"$d/.created-by-static-container-registry"; fi
f="$d/hosts.toml"
if [ -f "$f" ] && ! grep -qF ${shQuote(GENERATED_MARKER)} "$f" && [ ! -f "$f${BACKUP_SUFFIX}" ]; then
  cp -p "$f" "$f${BACKUP_SUFFIX}"
fi
`,
      shAtomicWriteTo('"$f"', o.hostsTomls[host]) + "\n",
      `say "wired ${host} in $d/hosts.toml"\n`,
    );
  }
  parts.push(`fi\n`);
  return asRoot(parts.join(""));
}

/** Puts every hosts.toml back as it was: restored from its backup, or removed with the dir it needed. */
export function unwireScript(o: WireScriptOptions): string {
  checkHosts(o.hostsTomls);
  const parts = [SCRIPT_PRELUDE, failWith(o.node), FIND_RANCHER, `if [ -n "$rancher" ]; then\n`];
  parts.push(shUnmergeRegistries(), `else\n`, FIND_CERTS_DIR);
  for (const host of Object.keys(o.hostsTomls).sort()) {
    parts.push(`d="$certs"/${shQuote(host)}
f="$d/hosts.toml"
if [ -f "$f${BACKUP_SUFFIX}" ]; then mv -f "$f${BACKUP_SUFFIX}" "$f"
elif [ -f "$f" ] && grep -qF ${shQuote(GENERATED_MARKER)} "$f"; then rm -f "$f"
fi
# Temp files of ours (a write or a wiring watcher's pass cut short) go too.
rm -f "$f.tmp.scr" "$d"/.hosts.toml.tmp.*
if [ -f "$d/.created-by-static-container-registry" ]; then
  rm -f "$d/.created-by-static-container-registry"
  rmdir "$d" 2>/dev/null || true
fi
say "unwired ${host}"
`);
  }
  parts.push(`fi\n`);
  // The CA last: nothing points at it any more.
  if (o.ca) parts.push(shRemoveCa(o.ca.file));
  return asRoot(parts.join(""));
}
