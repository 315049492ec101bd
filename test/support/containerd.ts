/**
 * The config of a private containerd for tests and benchmarks: its own root,
 * state, sockets and plugin dir under `dir`, the CRI plugin and the
 * snapshotters that need special filesystems disabled, so it never touches a
 * system containerd.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface ContainerdConfigOptions {
  /** containerd's log level. Default "warn". */
  level?: string;
  /** Run the garbage collector on every deletion (so removed content leaves the disk). */
  eagerGc?: boolean;
  /** Unpack with the `walking` differ (no overlay mounts needed). */
  walkingDiff?: boolean;
}

/**
 * Plugins a test containerd runs without: CRI (it would manage pods of its
 * own), snapshotters that need special filesystems, tracing.
 */
export const CONTAINERD_TEST_DISABLED_PLUGINS = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
];

/** Writes `dir/config.toml`; returns its path and the GRPC socket's. */
export function writeContainerdConfig(dir: string, o: ContainerdConfigOptions = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const socket = path.join(dir, "containerd.sock");
  const config = path.join(dir, "config.toml");
  const disabled = CONTAINERD_TEST_DISABLED_PLUGINS;
  const lines = [
    "version = 2",
    `root = "${dir}/root"`,
    `state = "${dir}/state"`,
    `plugin_dir = ""`,
    `disabled_plugins = ${JSON.stringify(disabled)}`,
    "[grpc]",
    `  address = "${socket}"`,
    "[ttrpc]",
    `  address = "${socket}.ttrpc"`,
    "[debug]",
    `  address = "${dir}/debug.sock"`,
    `  level = "${o.level ?? "warn"}"`,
    "[metrics]",
    `  address = ""`,
    `[plugins."io.containerd.internal.v1.opt"]`,
    `  path = "${dir}/opt"`,
  ];
  if (o.eagerGc)
    lines.push(
      `[plugins."io.containerd.gc.v1.scheduler"]`,
      `  deletion_threshold = 1`,
      `  schedule_delay = "0s"`,
      `  startup_delay = "0s"`,
    );
  if (o.walkingDiff)
    lines.push(`[plugins."io.containerd.service.v1.diff-service"]`, `  default = ["walking"]`);
  fs.writeFileSync(config, lines.join("\n") + "\n");
  return { config, socket };
}
