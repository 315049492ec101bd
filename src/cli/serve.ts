import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { scan, summarize, type Inventory } from "../inventory";
import { renderStandalone, type RenderedConfig } from "../nginx";
import type { AccessLogFormat } from "../nginx/accessLog";
import { problemText } from "../problemList";
import { loadInventory, normalizePrefix, parseListen, printWarnings, requireClean } from "./common";
import { UsageError } from "./errors";
import { parentDeathPrefix, watchStarter } from "./lifetime";
import { checkCanListen, waitOwnListener } from "./listening";
import { findNjsModule } from "./njsModule";
import { tlsFromFlags, type TlsFlags } from "./tls";

export interface ServeOptions extends TlsFlags {
  listen: string;
  namePrefix?: string;
  nginx?: string;
  user?: string;
  /** The request log's lines on stdout (accessLog.ts). */
  accessLog?: AccessLogFormat;
  /** Where to serve Prometheus metrics (metrics.ts), if anywhere. */
  metricsListen?: string;
  /** Called once nginx accepts connections, after the ready message (the demo prints its pull commands). */
  onReady?: () => void;
  /** The catalog page at / (commander's --no-ui sets false). */
  ui?: boolean;
}

/** nginx on PATH, then the sbin dirs Debian puts it in. */
export function findNginx(explicit?: string): string {
  if (explicit) {
    if (!isExecutable(explicit)) throw new UsageError(`--nginx ${explicit} is not an executable file`);
    return explicit;
  }
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/usr/local/sbin", "/sbin"]);
  for (const d of dirs) {
    const p = path.join(d, "nginx");
    if (d && isExecutable(p)) return p;
  }
  throw new UsageError(
    "nginx was not found on PATH or in /usr/sbin. Install it (Debian/Ubuntu: apt-get install nginx-light; " +
      "Fedora: dnf install nginx; macOS: brew install nginx) or pass --nginx /path/to/nginx.",
    127,
  );
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * `serve`: render the standalone config into a private temp dir, run nginx in
 * the foreground, print the URL once *its* nginx listens (listening.ts: a port
 * someone else holds is refused before nginx starts). It stops nginx
 * (gracefully: in-flight downloads finish) and exits 0 on SIGINT or SIGTERM,
 * and when whoever started it goes away (see lifetime.ts); SIGHUP re-scans
 * ROOT and reloads nginx with the new config, keeping the running one when the
 * tree has problems. If nginx exits by itself, serve exits with its status.
 */
export async function runServe(root: string, opts: ServeOptions): Promise<number> {
  const { host, port } = parseListen(opts.listen);
  const nginx = findNginx(opts.nginx);
  const tls = tlsFromFlags(opts);
  const inv = await loadInventory(root, scan);
  requireClean(inv);
  printWarnings(inv);
  await checkCanListen(host, port, opts.listen);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), "static-container-registry-"));
  const configDir = path.join(work, "conf");
  const runtimeDir = path.join(work, "run");
  fs.mkdirSync(configDir);
  fs.mkdirSync(runtimeDir);
  // Once detached from a terminal or a dead parent, a write to stdout/stderr may fail: never crash on it.
  for (const s of [process.stdout, process.stderr]) s.on("error", () => undefined);
  try {
    const render = (i: Inventory, t = tls) =>
      renderStandalone(i, {
        tls: t,
        listen: opts.listen,
        runtimeDir,
        configDir,
        namePrefix: normalizePrefix(opts.namePrefix),
        accessLog: accessLog.path,
        user,
        njsModulePath,
        ui: opts.ui,
        ...observability(opts),
      });
    // The module of this nginx (nginx -V), wherever its packages put it.
    const njsModulePath = findNjsModule(nginx).path;
    const accessLog = accessLogFor(work);
    const user = workerUser(inv.root, opts.user);
    const rendered = render(inv);
    writeConfig(configDir, rendered.files);
    const args = ["-c", path.join(configDir, rendered.main), "-p", runtimeDir, "-e", "stderr"];
    const [cmd, ...pre] = [...parentDeathPrefix(), nginx];
    const child = spawn(cmd, [...pre, ...args], { stdio: ["ignore", "inherit", "inherit"] });
    const exited = new Promise<number>((resolve) =>
      child.once("exit", (code, signal) =>
        resolve(code ?? (signal === "SIGTERM" || signal === "SIGQUIT" ? 0 : 1)),
      ),
    );

    let stopping = false;
    const stop = (why: string) => {
      if (stopping) {
        child.kill("SIGTERM"); // asked twice: do not wait for downloads
        return;
      }
      stopping = true;
      process.stderr.write(`${why}: stopping nginx\n`);
      child.kill("SIGQUIT"); // graceful: finish in-flight downloads
      setTimeout(() => child.kill("SIGTERM"), 5000).unref();
      setTimeout(() => child.kill("SIGKILL"), 15000).unref();
    };
    const onInt = () => stop("SIGINT");
    const onTerm = () => stop("SIGTERM");
    const reloader = serialized(() =>
      reload(root, (i) => render(i, tlsFromFlags(opts)), configDir, child.pid!),
    );
    const onHup = () => void reloader();
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    process.on("SIGHUP", onHup);
    const unwatch = watchStarter(() => stop("the process that started serve is gone"));

    const ready = await waitOwnListener(child.pid!, host, port, exited);
    if (ready) {
      const shown = host === "0.0.0.0" || host === "[::]" ? "127.0.0.1" : host;
      process.stderr.write(
        `serving ${inv.repositories.length} repositories from ${inv.root}\n` +
          `registry ready at ${tls ? "https" : "http"}://${shown}:${port}/v2/ (Ctrl-C to stop; SIGHUP re-scans and reloads)\n`,
      );
      opts.onReady?.();
    }
    const code = await exited;
    accessLog.close();
    unwatch();
    process.removeListener("SIGINT", onInt);
    process.removeListener("SIGTERM", onTerm);
    process.removeListener("SIGHUP", onHup);
    if (!ready) process.stderr.write(`nginx exited with status ${code} before it was listening\n`);
    return stopping ? 0 : code || 1;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The pull log's format and the metrics address, as renderStandalone takes them. */
function observability(opts: ServeOptions) {
  return { accessLogFormat: opts.accessLog, metricsListen: opts.metricsListen };
}

/**
 * SIGHUP: scan ROOT again; when it is clean, write the new config and tell
 * nginx to reload it (nginx starts new workers and lets the old ones finish
 * their downloads). A tree with problems keeps the running config.
 */
async function reload(
  root: string,
  render: (inv: Inventory) => RenderedConfig,
  configDir: string,
  nginxPid: number,
): Promise<void> {
  let inv: Inventory;
  try {
    inv = await scan(root);
  } catch (e) {
    process.stderr.write(`reload refused, still serving the previous images: ${(e as Error).message}\n`);
    return;
  }
  if (inv.problems.length) {
    process.stderr.write(
      `reload refused, still serving the previous images: ${inv.root} has ${inv.problems.length} problem(s):\n` +
        inv.problems.map((p) => `  ${problemText(p)}\n`).join(""),
    );
    return;
  }
  printWarnings(inv);
  try {
    // Renders first: a certificate renewed (or broken) since the start is checked here.
    writeConfig(configDir, render(inv).files);
    process.kill(nginxPid, "SIGHUP");
  } catch (e) {
    process.stderr.write(`reload failed, still serving the previous images: ${(e as Error).message}\n`);
    return;
  }
  const s = summarize(inv);
  process.stderr.write(`reloaded: ${s.repositories} repositories, ${s.tags} tags from ${inv.root}\n`);
}

/** Runs `fn` one call at a time; calls made meanwhile collapse into one more run. */
function serialized(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  const run = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await fn();
      } while (again);
    })();
    try {
      await running;
    } finally {
      running = undefined;
    }
  };
  return run;
}

/**
 * Writes the config files, each atomically (temp + rename: nginx reloading
 * meanwhile reads the old file or the new one), then removes files of an
 * earlier config that this one no longer includes.
 */
function writeConfig(dir: string, files: Record<string, string>) {
  for (const [name, text] of Object.entries(files)) {
    const tmp = path.join(dir, `.${name}.tmp`);
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, path.join(dir, name));
  }
  for (const name of fs.readdirSync(dir))
    if (!(name in files)) fs.rmSync(path.join(dir, name), { force: true });
}

/**
 * Started as root, nginx runs its workers as `nobody`, who often cannot read
 * the images (a home directory, a 0700 temp dir): every pull would be a 404.
 * So, as root, the workers run as the owner of the images root instead.
 */
function workerUser(root: string, explicit: string | undefined): string | undefined {
  if (explicit) return withPrimaryGroup(explicit);
  if (process.getuid?.() !== 0) return undefined; // nginx cannot switch users anyway
  const st = fs.statSync(root);
  const user = nameOf("/etc/passwd", st.uid);
  const group = nameOf("/etc/group", st.gid);
  if (!user || !group) {
    process.stderr.write(
      `note: ${root} is owned by uid ${st.uid} without a name; nginx workers run as nobody and need to read it (or pass --user)\n`,
    );
    return undefined;
  }
  return `${user} ${group}`;
}

/**
 * `--user USER` without a group: nginx would take a group named like the
 * user, which often does not exist (Debian's nobody is in nogroup); the
 * user's primary group from /etc/passwd instead.
 */
function withPrimaryGroup(user: string): string {
  if (user.includes(" ")) return user;
  try {
    for (const line of fs.readFileSync("/etc/passwd", "utf8").split("\n")) {
      const f = line.split(":");
      if (f[0] === user && f.length > 3) {
        const group = nameOf("/etc/group", Number(f[3]));
        if (group) return `${user} ${group}`;
      }
    }
  } catch {
    /* no /etc/passwd: as given */
  }
  return user;
}

/** The name of a numeric id in /etc/passwd or /etc/group (name:x:id:...). */
function nameOf(file: string, id: number): string | undefined {
  try {
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
      const f = line.split(":");
      if (f.length > 2 && Number(f[2]) === id) return f[0];
    }
  } catch {
    /* no such file: fall through */
  }
  return undefined;
}

/**
 * nginx opens its access log by name; "/dev/stdout" fails with ENXIO when
 * stdout is a socket (as under Node's child_process or some supervisors).
 * Then relay the log through a FIFO instead, so requests still reach stdout.
 */
function accessLogFor(work: string): { path?: string; close: () => void } {
  if (!fs.fstatSync(1).isSocket()) return { close: () => undefined }; // the default, /dev/stdout, works
  const fifo = path.join(work, "access.log");
  execFileSync("mkfifo", ["-m", "0622", fifo]);
  const relay = fs.createReadStream(fifo).on("error", () => undefined);
  relay.pipe(process.stdout, { end: false });
  return {
    path: fifo,
    // The reader's open() waits for a writer: when nginx exited before opening the log, be that
    // writer for a moment, so that the open returns, the relay ends and nothing keeps serve alive.
    close: () => {
      try {
        fs.closeSync(fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
      } catch {
        /* no reader waits */
      }
    },
  };
}
