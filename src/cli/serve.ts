import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { scan } from "../inventory";
import { renderStandalone } from "../nginx";
import { loadInventory, normalizePrefix, parseListen, printWarnings, requireClean } from "./common";
import { UsageError } from "./errors";

export interface ServeOptions {
  listen: string;
  namePrefix?: string;
  nginx?: string;
  user?: string;
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
 * the foreground, print the URL once it accepts connections, and stop it on
 * SIGINT/SIGTERM. The exit status is nginx's (0 after a clean stop).
 */
export async function runServe(root: string, opts: ServeOptions): Promise<number> {
  const { host, port } = parseListen(opts.listen);
  const nginx = findNginx(opts.nginx);
  const inv = await loadInventory(root, scan);
  requireClean(inv);
  printWarnings(inv);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), "static-container-registry-"));
  const configDir = path.join(work, "conf");
  const runtimeDir = path.join(work, "run");
  fs.mkdirSync(configDir);
  fs.mkdirSync(runtimeDir);
  const cleanup = () => fs.rmSync(work, { recursive: true, force: true });
  try {
    const rendered = renderStandalone(inv, {
      listen: opts.listen,
      runtimeDir,
      configDir,
      namePrefix: normalizePrefix(opts.namePrefix),
      accessLog: accessLogFor(work),
      user: workerUser(inv.root, opts.user),
    });
    for (const [name, text] of Object.entries(rendered.files))
      fs.writeFileSync(path.join(configDir, name), text);
    const args = ["-c", path.join(configDir, rendered.main), "-p", runtimeDir, "-e", "stderr"];

    const child = spawn(nginx, args, { stdio: ["ignore", "inherit", "inherit"] });
    const exited = new Promise<number>((resolve) =>
      child.once("exit", (code, signal) =>
        resolve(code ?? (signal === "SIGTERM" || signal === "SIGQUIT" ? 0 : 1)),
      ),
    );
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      child.kill("SIGQUIT"); // graceful: finish in-flight downloads
      setTimeout(() => child.kill("SIGTERM"), 5000).unref();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);

    const ready = await Promise.race([waitListening(host, port).then(() => true), exited.then(() => false)]);
    if (ready) {
      const shown = host === "0.0.0.0" || host === "[::]" ? "127.0.0.1" : host;
      process.stderr.write(
        `serving ${inv.repositories.length} repositories from ${inv.root}\n` +
          `registry ready at http://${shown}:${port}/v2/ (Ctrl-C to stop)\n`,
      );
    }
    const code = await exited;
    process.removeListener("SIGINT", stop);
    process.removeListener("SIGTERM", stop);
    if (!ready) process.stderr.write(`nginx exited with status ${code} before it was listening\n`);
    return stopping ? 0 : code || 1;
  } finally {
    cleanup();
  }
}

/**
 * Started as root, nginx runs its workers as `nobody`, who often cannot read
 * the images (a home directory, a 0700 temp dir): every pull would be a 403.
 * So, as root, the workers run as the owner of the images root instead.
 */
function workerUser(root: string, explicit: string | undefined): string | undefined {
  if (explicit) return explicit;
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
function accessLogFor(work: string): string | undefined {
  if (!fs.fstatSync(1).isSocket()) return undefined; // the default, /dev/stdout, works
  const fifo = path.join(work, "access.log");
  execFileSync("mkfifo", ["-m", "0622", fifo]);
  fs.createReadStream(fifo)
    .on("error", () => undefined)
    .pipe(process.stdout, { end: false });
  return fifo;
}

async function waitListening(host: string, port: number): Promise<void> {
  const target = host === "0.0.0.0" ? "127.0.0.1" : host === "[::]" ? "::1" : host.replace(/^\[|\]$/g, "");
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, target);
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
