/**
 * The script that keeps a node wired from inside a pod — the wiring
 * DaemonSet's, and the static-pod watcher's before the cluster exists — and
 * the files it reads. It writes each upstream host's `hosts.toml` into the
 * node's containerd certs dir (and, with TLS, the CA certificate the files
 * point at), from a source dir (a ConfigMap, or files placed on the node):
 *
 *   hosts.list   `HOST FILE` lines: CERTS_DIR/HOST/hosts.toml gets FILE
 *   probe.list   `ENDPOINT URL` lines (optional): registries on other nodes
 *                whose `[host]` entries are left out of every hosts.toml
 *                while they do not answer URL within 2 s
 *   ca.crt       (optional) written to $CA_FILE
 *
 * Why the probes: containerd before 2.1 has no `dial_timeout`; a host that
 * drops packets (a dead or cut-off node) costs each request 30 s before the
 * next host is tried. containerd reads hosts.toml at every pull, so keeping
 * only the peers that answer keeps a pull that falls back off a dead node.
 * The node's own registry (on its loopback, refused at once when it is down)
 * and a Service (which routes to Ready pods only) are never probed.
 *
 * It writes a file only when its content differs (idempotent), by a temp file
 * and a rename in the same directory (atomic: containerd sees the old file or
 * the new one), and never overwrites a file it did not write (one without the
 * generated marker): a DaemonSet has no delete hook that could put it back, so
 * it stops and says so instead. Without INTERVAL it wires once; with it, it
 * wires every INTERVAL seconds until stopped (TERM/INT: exit 0).
 *
 * Needs sh, awk, cat, cmp, cp, chmod, mkdir, mv, rm, grep, sleep (busybox or
 * coreutils), and for probes curl, or wget under timeout (busybox's wget
 * cannot bound a connection by itself).
 */
import { GENERATED_MARKER } from "./files";

/** Script file name in the wiring source dir. */
export const WIRING_SCRIPT = "wire-hosts.sh";
/** The list of `HOST FILE` lines. */
export const WIRING_LIST = "hosts.list";
/** The list of `ENDPOINT URL` lines to probe. */
export const PROBE_LIST = "probe.list";
/** The CA certificate to place at $CA_FILE. */
export const WIRING_CA = "ca.crt";

/**
 * The commands the script calls where curl is missing (busybox's applets, as
 * in an alpine image): what an image must hold for it to run; the tests give
 * busybox exactly these.
 */
export const WIRING_SCRIPT_COMMANDS: readonly string[] = [
  "sh",
  "awk",
  "cat",
  "cmp",
  "cp",
  "chmod",
  "mkdir",
  "mv",
  "rm",
  "grep",
  "sleep",
  "hostname",
  "timeout",
  "wget",
];

/** Seconds a probe may take before its peer counts as gone. */
export const PROBE_TIMEOUT_SECONDS = 2;

const HOST_RE = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/;
const ENDPOINT_RE = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/;

/**
 * The script: `sh wire-hosts.sh CERTS_DIR SOURCE_DIR [INTERVAL]`.
 */
export function wiringScript(): string {
  return `#!/bin/sh
# static-container-registry node wiring (generated; do not edit).
#
# usage: sh ${WIRING_SCRIPT} CERTS_DIR SOURCE_DIR [INTERVAL]
#
# For each line "HOST FILE" of SOURCE_DIR/${WIRING_LIST}, makes
# CERTS_DIR/HOST/hosts.toml a copy of SOURCE_DIR/FILE without the [host]
# entries of the endpoints in SOURCE_DIR/${PROBE_LIST} that do not answer;
# writes SOURCE_DIR/${WIRING_CA} to $CA_FILE when both are there. Only what
# differs, by a temp file and a rename, never over a file it did not write.
# With INTERVAL, repeats every INTERVAL seconds until stopped.
set -eu
certs=$1
src=$2
interval=\${3:-}
marker='${GENERATED_MARKER}'
node=\${NODE_NAME:-$(hostname 2>/dev/null || echo unknown)}
say() { printf 'static-container-registry wiring: node %s: %s\\n' "$node" "$*" >&2; }

# 0 when the registry at URL answers within ${PROBE_TIMEOUT_SECONDS} s.
if command -v curl >/dev/null 2>&1; then
  probe() { curl -fsk -o /dev/null --connect-timeout 1 -m ${PROBE_TIMEOUT_SECONDS} "$1" >/dev/null 2>&1; }
elif command -v wget >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then
  probe() { timeout ${PROBE_TIMEOUT_SECONDS} wget -q -O /dev/null "$1" >/dev/null 2>&1; }
else
  probe() { return 0; }
  [ ! -s "$src/${PROBE_LIST}" ] || say "neither curl nor wget with timeout: other nodes' registries are listed unchecked"
fi

# The endpoints of SOURCE_DIR/${PROBE_LIST} that do not answer, space-separated, probed at once.
unanswered() {
  [ -s "$src/${PROBE_LIST}" ] || return 0
  while read -r ep url; do
    case $ep in '' | '#'*) continue ;; esac
    (probe "$url" || printf '%s ' "$ep") &
  done <"$src/${PROBE_LIST}"
  wait
}

# FILE without the [host] entries of the endpoints in $down (blank lines kept single).
filtered() {
  awk -v down=" $down " '
    /^[[:space:]]*$/ { gap = 1; next }
    /^\\[host\\."/ {
      e = $0; sub(/^\\[host\\."[a-z]+:\\/\\//, "", e); sub(/[\\/"].*$/, "", e)
      skip = index(down, " " e " ") > 0
    }
    skip { next }
    { if (gap && printed) print ""; gap = 0; print; printed = 1 }
  ' "$1"
}

# Makes file $2 hold the content of file $1 (a temp file beside $2, removed or renamed).
place() {
  if [ -f "$2" ] && cmp -s "$1" "$2"; then rm -f "$1"; return 0; fi
  if [ -e "$2" ] && ! grep -qF "$marker" "$2"; then
    rm -f "$1"
    say "$2 exists and was not written by static-container-registry: not overwriting it (move it away, then the next pass writes it)"
    return 1
  fi
  chmod 0644 "$1"
  mv -f "$1" "$2"
  say "wrote $2"
}

was_down=
wire_once() {
  [ -d "$certs" ] || { say "$certs is not a directory: is the certs dir mounted?"; return 1; }
  [ -f "$src/${WIRING_LIST}" ] || { say "no $src/${WIRING_LIST}: is the wiring source mounted?"; return 1; }
  down=$(unanswered)
  for ep in $down; do
    case " $was_down " in *" $ep "*) ;; *) say "$ep does not answer: left out until it does" ;; esac
  done
  for ep in $was_down; do
    case " $down " in *" $ep "*) ;; *) say "$ep answers again" ;; esac
  done
  was_down=$down
  if [ -f "$src/${WIRING_CA}" ] && [ -n "\${CA_FILE:-}" ]; then
    mkdir -p "\${CA_FILE%/*}"
    cp "$src/${WIRING_CA}" "$CA_FILE.tmp.$$"
    place "$CA_FILE.tmp.$$" "$CA_FILE" || return 1
  fi
  while read -r host file; do
    case $host in '' | '#'*) continue ;; esac
    case $host in
      *[!a-z0-9.:-]* | [.:-]* | *..*) say "refusing host name '$host'"; return 1 ;;
    esac
    case $file in
      '' | *[!A-Za-z0-9._-]* | .*) say "refusing file name '$file' for $host"; return 1 ;;
    esac
    d=$certs/$host
    mkdir -p "$d"
    # A source gone mid-pass (the step's delete removes them) leaves no temp file behind.
    filtered "$src/$file" >"$d/.hosts.toml.tmp.$$" || { rm -f "$d/.hosts.toml.tmp.$$"; say "cannot read $src/$file"; return 1; }
    place "$d/.hosts.toml.tmp.$$" "$d/hosts.toml" || return 1
  done <"$src/${WIRING_LIST}"
}

if [ -z "$interval" ]; then
  wire_once
  say "wired"
  exit 0
fi
case $interval in '' | *[!0-9]*) say "INTERVAL must be whole seconds, not '$interval'"; exit 2 ;; esac
trap 'exit 0' TERM INT
while :; do
  wire_once
  sleep "$interval" &
  wait $! || true
done
`;
}

/** What the wiring writes besides the hosts.toml files. */
export interface WiringExtras {
  /** Endpoints (`host:port`) to probe, each with the URL that must answer. */
  probes?: readonly { endpoint: string; url: string }[];
  /** PEM text of the CA certificate(s) to place at the pod's $CA_FILE. */
  caPem?: string;
}

/** The CA file as the wiring writes it: the PEM behind a marker line (PEM parsers skip text before a block). */
export function markedCa(pem: string): string {
  const body = pem.trim();
  if (!/-----BEGIN CERTIFICATE-----/.test(body)) throw new Error("tls CA: not a PEM certificate");
  return `# ${GENERATED_MARKER}: the CA of the registry's certificate.\n${body}\n`;
}

/**
 * The source dir's files: the script, the list, one file per host
 * (`hosts-N.toml`: a host with a port is not a valid ConfigMap key), and the
 * probe list and CA when given. Deterministic: hosts in sorted order.
 */
export function wiringFiles(
  hostsTomls: Record<string, string>,
  extras: WiringExtras = {},
): Record<string, string> {
  const hosts = Object.keys(hostsTomls).sort();
  if (hosts.length === 0) throw new Error("node wiring: no upstream hosts to wire");
  const files: Record<string, string> = { [WIRING_SCRIPT]: wiringScript() };
  const list: string[] = ["# HOST FILE: CERTS_DIR/HOST/hosts.toml gets the content of FILE"];
  hosts.forEach((host, i) => {
    if (!HOST_RE.test(host)) throw new Error(`node wiring: "${host}" is not a registry host name`);
    const file = `hosts-${i}.toml`;
    list.push(`${host} ${file}`);
    files[file] = hostsTomls[host];
  });
  files[WIRING_LIST] = list.join("\n") + "\n";
  if (extras.probes && extras.probes.length > 0) {
    const lines = ["# ENDPOINT URL: the endpoint's [host] entries are left out while URL does not answer"];
    for (const p of extras.probes) {
      if (!ENDPOINT_RE.test(p.endpoint) || !/^https?:\/\/[^\s]+$/.test(p.url))
        throw new Error(`node wiring: cannot probe "${p.endpoint}" at "${p.url}"`);
      lines.push(`${p.endpoint} ${p.url}`);
    }
    files[PROBE_LIST] = lines.join("\n") + "\n";
  }
  if (extras.caPem !== undefined) files[WIRING_CA] = markedCa(extras.caPem);
  return files;
}
