/**
 * The three servers compared side by side, each on the server core:
 * - ours: the product's standalone config (scan + renderStandalone), one worker;
 * - bare: nginx serving the same files from a plain `root` (the ceiling for nginx);
 * - reference: Debian's docker-registry 2.8 (GOMAXPROCS=1), filesystem storage,
 *   the same images pushed into it with skopeo.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { scan, type Inventory } from "../src/inventory";
import { freePort, waitForPort } from "../test/support/tools";
import { sh, startPinned, waitFor200, type Proc } from "./lib/proc";
import { childPids } from "../test/support/procs";
import { renderStandalone, type Rendered, type StandaloneOptions } from "./render";

export interface Running {
  /** "off": ours with one feature switched off (toggles.ts). */
  name: "ours" | "bare" | "reference" | "off";
  port: number;
  proc: Proc;
  /** Processes whose CPU is the server's: nginx workers, or the registry. */
  cpuPids: number[];
  /** Milliseconds from spawn to the first 200 on the readiness URL. */
  startMs: number;
  stop: () => Promise<void>;
}

const NGINX = "/usr/sbin/nginx";

/** Temp paths nginx-light would otherwise create under /var/lib/nginx. */
function tempPaths(run: string): string[] {
  return ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(
    (k) => `${k}_temp_path ${path.join(run, k)};`,
  );
}

async function startNginx(
  name: Running["name"],
  conf: string,
  runtimeDir: string,
  port: number,
  readyPath: string,
  extraGlobal: string[] = [],
): Promise<Running> {
  const args = ["-c", conf, "-p", runtimeDir, "-e", "stderr"];
  if (extraGlobal.length) args.push("-g", extraGlobal.join(" "));
  const t0 = performance.now();
  const proc = startPinned(NGINX, args, { logFile: path.join(runtimeDir, "..", `${name}.log`) });
  const startMs = await waitFor200(port, readyPath, t0, 30000, proc).catch(async (e: Error) => {
    await proc.stop();
    throw e;
  });
  const cpuPids = childPids(proc.pid);
  if (cpuPids.length === 0) throw new Error(`${name}: nginx has no worker processes`);
  return { name, port, proc, cpuPids, startMs, stop: proc.stop };
}

/** Plain nginx: `root` + an empty location; sendfile, tcp_nopush, open_file_cache, no access log. */
export async function startBare(root: string, work: string, port?: number): Promise<Running> {
  const dir = path.join(work, "bare");
  const run = path.join(dir, "run");
  fs.mkdirSync(run, { recursive: true });
  port ??= await freePort();
  const conf = path.join(dir, "nginx.conf");
  fs.writeFileSync(conf, bareConfig(root, run, port));
  return startNginx("bare", conf, run, port, "/");
}

export function bareConfig(root: string, run: string, port: number): string {
  return [
    "worker_processes 1;",
    "daemon off;",
    `pid ${path.join(run, "nginx.pid")};`,
    "error_log stderr warn;",
    "events { worker_connections 1024; }",
    "http {",
    // The generic speed-ups any nginx serving files would use (the same as the
    // rendered config's), and no access log: the ceiling for serving this file.
    "  access_log off;",
    "  sendfile on;",
    "  tcp_nopush on;",
    "  tcp_nodelay on;",
    "  keepalive_requests 10000;",
    "  open_file_cache max=10000 inactive=60s;",
    "  open_file_cache_valid 60s;",
    "  default_type application/octet-stream;",
    ...tempPaths(run).map((l) => "  " + l),
    "  server {",
    `    listen 127.0.0.1:${port};`,
    `    root ${root};`,
    "    location = / { return 200 'ok\\n'; }",
    "    location / { }",
    "  }",
    "}",
    "",
  ].join("\n");
}

export interface OursOptions {
  /** Edits applied to a copy of the rendered files (for before/after experiments). */
  edit?: (files: Record<string, string>, main: string) => Record<string, string>;
  inventory?: Inventory;
  port?: number;
  /** Render options beyond the bench's own (listen, dirs, one worker): the pull log, metrics, a feature switched off. */
  render?: Partial<StandaloneOptions>;
  /** The name results are kept under (default "ours"). */
  name?: Running["name"];
}

export interface OursRunning extends Running {
  rendered: Rendered;
  configDir: string;
  runtimeDir: string;
}

/** The product's standalone config, exactly as rendered, with one worker process. */
export async function startOurs(
  root: string,
  work: string,
  label = "ours",
  opts: OursOptions = {},
): Promise<OursRunning> {
  const dir = path.join(work, label);
  const configDir = path.join(dir, "conf");
  const runtimeDir = path.join(dir, "run");
  fs.mkdirSync(configDir, { recursive: true });
  fs.mkdirSync(runtimeDir, { recursive: true });
  const inv = opts.inventory ?? (await scan(root));
  if (inv.problems.length)
    throw new Error(`${root} has problems: ${JSON.stringify(inv.problems.slice(0, 5))}`);
  const port = opts.port ?? (await freePort());
  const rendered = renderStandalone(inv, {
    ...opts.render,
    listen: `127.0.0.1:${port}`,
    runtimeDir,
    configDir,
    workerProcesses: 1,
    ...opts.render,
  });
  const files = opts.edit ? opts.edit({ ...rendered.files }, rendered.main) : rendered.files;
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(configDir, name), text);
  const main = files[rendered.main];
  const extra: string[] = [];
  if (!/^\s*daemon\s+off\s*;/m.test(main)) extra.push("daemon off;");
  if (!/^\s*worker_processes\s+1\s*;/m.test(main)) {
    if (/^\s*worker_processes\s/m.test(main))
      throw new Error("rendered config does not honour workerProcesses: 1");
    extra.push("worker_processes 1;");
  }
  const r = await startNginx(
    opts.name ?? "ours",
    path.join(configDir, rendered.main),
    runtimeDir,
    port,
    "/v2/",
    extra,
  );
  return { ...r, rendered: { files, main: rendered.main }, configDir, runtimeDir };
}

export interface ImageRef {
  /** skopeo source: `dir:PATH` or `oci:PATH:TAG` */
  source: string;
  repo: string;
  tag: string;
}

/** docker-registry 2.8, filesystem storage in `work`, GOMAXPROCS=1, then `images` pushed with skopeo. */
export async function startReference(work: string, images: ImageRef[]): Promise<Running> {
  const dir = path.join(work, "reference");
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const config = path.join(dir, "config.yml");
  fs.writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: error",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  cache:", // as in Debian's /etc/docker/registry/config.yml: the reference at its best
      "    blobdescriptor: inmemory",
      "  filesystem:",
      `    rootdirectory: ${path.join(dir, "data")}`,
      "  delete:",
      "    enabled: false",
      "  redirect:",
      "    disable: true",
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "",
    ].join("\n"),
  );
  const t0 = performance.now();
  const proc = startPinned("docker-registry", ["serve", config], {
    logFile: path.join(work, "reference.log"),
    env: { ...process.env, GOMAXPROCS: "1" },
  });
  await waitForPort(port, 15000, proc.child);
  const startMs = await waitFor200(port, "/v2/", t0, 15000, proc);
  for (const img of images) {
    sh("skopeo", [
      "--insecure-policy",
      "copy",
      "--all",
      "--preserve-digests",
      "--quiet",
      "--dest-tls-verify=false",
      img.source,
      `docker://127.0.0.1:${port}/${img.repo}:${img.tag}`,
    ]);
  }
  return { name: "reference", port, proc, cpuPids: [proc.pid], startMs, stop: proc.stop };
}
