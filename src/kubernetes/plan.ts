/**
 * From the images dir to the files the pods need: scan, render the nginx
 * config for the pod's paths, render the drift guard, pack everything into
 * ConfigMap-sized shards. No resources here: the component registers the result.
 */
import { RunError } from "@pulumi/pulumi";
import { scan } from "../inventory";
import { summarize, type Inventory, type InventorySummary, type Problem } from "../inventory/model";
import { renderStandalone } from "../nginx";
import { problemList, problemText } from "../problemList";
import type { ResolvedArgs } from "./args";
import { filesHash, shardFiles, type Shard } from "./configMaps";
import { renderDriftGuard } from "./driftGuard";
import { podTlsFiles } from "./tls";
import { POD_PATHS } from "./workload";

/** Room left in each file's budget for its key (the file name) in the ConfigMap. */
const KEY_ALLOWANCE = 256;

/**
 * The images tree cannot be served; `problems` says why, file by file. A
 * Pulumi RunError, so that a failed preview prints the list without a stack.
 */
export class ImagesTreeError extends RunError {
  constructor(
    readonly resourceName: string,
    readonly imagesDir: string,
    readonly problems: Problem[],
  ) {
    super(
      `StaticContainerRegistry "${resourceName}": the images in ${imagesDir} cannot be served ` +
        `(${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problemList(problems.map(problemText)),
    );
    this.name = "ImagesTreeError";
  }
}

export interface RegistryPlan {
  inventory: Inventory;
  summary: InventorySummary;
  /** Every file of the config dir: nginx config and drift guard. */
  files: Record<string, string>;
  /** nginx's main config file and the drift guard script, by file name. */
  nginxMain: string;
  driftGuardMain: string;
  /** The files packed into ConfigMaps. */
  shards: Shard[];
  /** sha256 of all files: the pod template annotation that rolls the pods. */
  contentHash: string;
}

/** Renders the files for an already scanned, problem-free Inventory. Pure and deterministic. */
export function planFromInventory(
  inv: Inventory,
  a: Pick<ResolvedArgs, "port" | "namePrefix" | "maxConfigMapBytes" | "workerProcesses" | "tls" | "ui"> &
    Partial<Pick<ResolvedArgs, "accessLog" | "metricsPort">>,
): Omit<RegistryPlan, "inventory"> {
  const maxFileBytes = a.maxConfigMapBytes - KEY_ALLOWANCE;
  const nginx = renderStandalone(inv, {
    listen: String(a.port),
    runtimeDir: POD_PATHS.runtime,
    configDir: POD_PATHS.config,
    serverRoot: POD_PATHS.images,
    namePrefix: a.namePrefix === "" ? undefined : a.namePrefix,
    maxFileBytes,
    workerProcesses: a.workerProcesses,
    ui: a.ui,
    ...(a.tls ? { tls: podTlsFiles() } : {}),
    accessLogFormat: a.accessLog,
    ...(a.metricsPort !== undefined ? { metricsListen: String(a.metricsPort) } : {}),
  });
  const guard = renderDriftGuard(inv, {
    imagesRoot: POD_PATHS.images,
    configDir: POD_PATHS.config,
    maxFileBytes,
  });
  const files: Record<string, string> = { ...nginx.files };
  for (const [name, content] of Object.entries(guard.files)) {
    if (name in files) throw new Error(`internal: the nginx renderer and the drift guard both write ${name}`);
    files[name] = content;
  }
  return {
    summary: summarize(inv),
    files,
    nginxMain: nginx.main,
    driftGuardMain: guard.main,
    shards: shardFiles(files, a.maxConfigMapBytes),
    contentHash: filesHash(files),
  };
}

/**
 * Scans `imagesDir` and plans the config. Throws {@link ImagesTreeError} with
 * every problem of the tree, so that a preview fails with the full list.
 */
export async function planRegistry(
  resourceName: string,
  a: Pick<
    ResolvedArgs,
    "imagesDir" | "verify" | "port" | "namePrefix" | "maxConfigMapBytes" | "workerProcesses" | "tls" | "ui"
  > &
    Partial<Pick<ResolvedArgs, "accessLog" | "metricsPort">>,
): Promise<RegistryPlan> {
  const inventory = await scan(a.imagesDir, { verify: a.verify });
  const problems = [...inventory.problems];
  if (problems.length === 0 && inventory.repositories.length === 0) {
    problems.push({
      file: ".",
      message: "no images found (expected skopeo dir: trees or OCI image layouts)",
    });
  }
  if (problems.length > 0) throw new ImagesTreeError(resourceName, a.imagesDir, problems);
  return { inventory, ...planFromInventory(inventory, a) };
}
