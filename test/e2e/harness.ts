/**
 * Shared plumbing for the e2e tests: the fixture tree (built once per test
 * file), our registry started through the product's own `serve` command, a
 * private containerd, Debian's reference `docker-registry`, and small HTTP
 * helpers (one that sends a request line byte for byte, so nothing normalises
 * a crafted URL before nginx sees it).
 *
 * Everything a test file starts is registered here and stopped by PID in
 * `stopAll()`, which each file calls from an `after` hook (so also on failure).
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import type { TestContext } from "node:test";
import { buildFixtureTree, type FixtureImage } from "../fixtures/build";
import {
  freePort,
  requireTool,
  runClient,
  runClientAny,
  startProcess,
  tmpDir,
  waitForPort,
  type Server,
} from "../support/tools";
import { writeContainerdConfig } from "../support/containerd";

/** The repository root (this file runs from dist/test/e2e/). */
export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
export const CLI = path.join(REPO_ROOT, "bin", "static-container-registry.js");

const started: { name: string; server: Server }[] = [];
const dirs: string[] = [];

/** Stops everything this test file started (by PID, in reverse order) and removes its temp dirs. */
export async function stopAll(): Promise<void> {
  while (started.length) {
    const { server } = started.pop()!;
    await server.stop();
  }
  if (!process.env.SCR_E2E_KEEP) {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  } else {
    process.stderr.write(`kept e2e temp dirs: ${dirs.join(" ")}\n`);
  }
}

/** A temp dir that stopAll() removes (set SCR_E2E_KEEP=1 to keep them for debugging). */
export function scratch(prefix: string): string {
  const d = tmpDir(prefix);
  dirs.push(d);
  return d;
}

function track(name: string, server: Server): Server {
  started.push({ name, server });
  return server;
}

/** Resolves `fn` once and shares the promise (per test file). */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

/**
 * Checks each tool with requireTool: in CI a missing tool fails the test;
 * elsewhere the test is skipped loudly. Returns false when the test must stop.
 */
export function tools(t: TestContext, ...names: string[]): boolean {
  for (const n of names) if (!requireTool(t, n)) return false;
  return true;
}

export { CLIENT_TIMEOUT_MS, runClient, runClientAny } from "../support/tools";

/**
 * Writes a registries.conf that sends each made-up upstream name (`prefix`)
 * to a local plain-HTTP registry (`location`, host:port), as the mirror tests
 * point their upstreams at local registries; returns the file.
 */
export function writeRegistriesConf(file: string, routes: { prefix: string; location: string }[]): string {
  const entry = (r: { prefix: string; location: string }) =>
    [`[[registry]]`, `prefix = "${r.prefix}"`, `location = "${r.location}"`, `insecure = true`, ``].join(
      "\n",
    );
  fs.writeFileSync(file, routes.map(entry).join("\n"));
  return file;
}

/** The CLI with a registries.conf (through the environment variable the CLI honours), `env` added. */
export function cliWithConf(conf: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return runClientAny(process.execPath, [CLI, ...args], {
    env: { ...process.env, CONTAINERS_REGISTRIES_CONF: conf, ...env },
  });
}

// ---------------------------------------------------------------------------
// Fixtures

export interface Fixtures {
  root: string;
  images: FixtureImage[];
}

export async function buildFixtures(): Promise<Fixtures> {
  const dir = scratch("e2e-images");
  // mkdtemp makes the dir 0700, readable by its owner only: `serve` run as
  // root must run nginx's workers as that owner, not as nobody (else 403).
  const root = path.join(dir, "images");
  const images = await buildFixtureTree(root);
  return { root, images };
}

/** The fixture tree and our registry serving it, made at the first call and shared by the test file. */
export const servedFixtures = once(async (): Promise<{ fx: Fixtures; reg: Registry }> => {
  const fx = await buildFixtures();
  return { fx, reg: await startRegistry(fx.root) };
});

/** Fixtures of one kind / with one feature. */
export function byKind(images: FixtureImage[], kind: FixtureImage["kind"]): FixtureImage[] {
  return images.filter((i) => i.kind === kind);
}

// ---------------------------------------------------------------------------
// Our registry, through the CLI's `serve`

export interface Registry {
  port: number;
  /** "127.0.0.1:PORT" */
  host: string;
  server: Server;
  /** Everything `serve` printed so far (nginx logs its access log to stdout). */
  log: () => string;
}

/**
 * `static-container-registry serve ROOT --listen 127.0.0.1:PORT`, waiting for
 * its "registry ready at" line. Fails with serve's output if it exits first.
 */
export async function startRegistry(root: string, extraArgs: string[] = []): Promise<Registry> {
  if (!fs.existsSync(path.join(REPO_ROOT, "dist", "src", "cli", "main.js"))) {
    throw new Error(`${CLI} needs a build: run \`npx tsc -p .\` first`);
  }
  const port = await freePort();
  const server = track(
    "serve",
    startProcess(process.execPath, [CLI, "serve", root, "--listen", `127.0.0.1:${port}`, ...extraArgs]),
  );
  await waitForOutput(server, /registry ready at https?:\/\/127\.0\.0\.1:\d+\/v2\//, 30000, "serve");
  return { port, host: `127.0.0.1:${port}`, server, log: server.output };
}

async function waitForOutput(server: Server, re: RegExp, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!re.test(server.output())) {
    if (server.proc.exitCode !== null || server.proc.signalCode !== null) {
      throw new Error(
        `${what} exited (${server.proc.exitCode ?? server.proc.signalCode}) before it was ready:\n${server.output()}`,
      );
    }
    if (Date.now() > deadline)
      throw new Error(`${what} not ready after ${timeoutMs} ms:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits (up to `timeoutMs`) until the output after `mark` matches `re`, then
 * returns its lines. Needed after a synchronous client run: serve's output is
 * only read when the event loop turns.
 */
export async function waitLog(reg: Registry, mark: number, re: RegExp, timeoutMs = 3000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  while (!re.test(reg.log().slice(mark)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 25));
  // A little longer, for lines of the same burst still in the pipe.
  await new Promise((r) => setTimeout(r, 100));
  return logSince(reg, mark);
}

/**
 * A mark for logSince/waitLog, taken once serve's output has been quiet for
 * `quietMs` (so lines of earlier requests that were still in the pipe do not
 * count as later ones).
 */
export async function logMark(reg: Registry, quietMs = 200): Promise<number> {
  let len = reg.log().length;
  let since = Date.now();
  for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 25));
    const now = reg.log().length;
    if (now !== len) {
      len = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) break;
  }
  return reg.log().length;
}

/** Lines of the access log written after `mark` (a length of log() taken earlier). */
export function logSince(reg: Registry, mark: number): string[] {
  return reg
    .log()
    .slice(mark)
    .split("\n")
    .filter((l) => l.trim() !== "");
}

// ---------------------------------------------------------------------------
// Debian's docker-registry (the reference)

export interface Reference {
  port: number;
  host: string;
  server: Server;
}

export async function startReference(): Promise<Reference> {
  const dir = scratch("e2e-reference");
  const port = await freePort();
  const config = path.join(dir, "config.yml");
  fs.writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${path.join(dir, "data")}`,
      "  delete:",
      "    enabled: false",
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "",
    ].join("\n"),
  );
  const server = track("docker-registry", startProcess("docker-registry", ["serve", config]));
  await waitForPort(port, 15000, server.proc);
  return { port, host: `127.0.0.1:${port}`, server };
}

// ---------------------------------------------------------------------------
// A private containerd

export interface Containerd {
  dir: string;
  socket: string;
  server: Server;
  /** `ctr -a SOCK -n NAMESPACE ARGS...` (namespace "e2e" by default), throwing with the output on failure. */
  ctr: (args: string[], namespace?: string) => { stdout: string; stderr: string };
}

/**
 * containerd with its own root, state, sockets and plugin dir under a temp
 * dir, the CRI plugin disabled, so it never touches a system containerd.
 * The `native` snapshotter: no overlay mounts (which need a real filesystem
 * under them, not the overlay a container's /tmp may be).
 */
export async function startContainerd(): Promise<Containerd> {
  const dir = scratch("e2e-containerd");
  const { config, socket } = writeContainerdConfig(dir, { level: "info", walkingDiff: true });
  const server = track("containerd", startProcess("containerd", ["--config", config]));
  const deadline = Date.now() + 20000;
  while (!fs.existsSync(socket)) {
    if (server.proc.exitCode !== null) throw new Error(`containerd exited:\n${server.output()}`);
    if (Date.now() > deadline) throw new Error(`containerd did not create ${socket}:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const ctr = (args: string[], namespace = "e2e") => {
    const r = runClient("ctr", ["-a", socket, "-n", namespace, ...args], {
      env: { ...process.env, CONTAINERD_SNAPSHOTTER: "native" },
    });
    return { stdout: r.stdout, stderr: r.stderr };
  };
  // Ready when the API answers.
  for (;;) {
    try {
      ctr(["version"]);
      break;
    } catch (e) {
      if (Date.now() > deadline)
        throw new Error(`containerd API not answering: ${(e as Error).message}\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { dir, socket, server, ctr };
}

// ---------------------------------------------------------------------------
// HTTP

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One HTTP request with node's http client (which sends `path` as given: no
 * normalisation). No connection reuse, no redirects followed.
 */
export function request(
  port: number,
  method: string,
  urlPath: string,
  headers: Record<string, string | string[]> = {},
  body?: Buffer | string,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method, path: urlPath, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on("error", reject);
      },
    );
    req.setTimeout(30000, () => req.destroy(new Error(`${method} ${urlPath}: timeout`)));
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export { rawRequest, errorCodes, type RawResponse } from "../support/http";

// ---------------------------------------------------------------------------
// Misc

/** The host's platform as OCI spells it (linux/amd64, linux/arm64, ...). */
export function hostPlatform(): string {
  const arch = (
    { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x" } as Record<
      string,
      string
    >
  )[process.arch];
  return `linux/${arch ?? process.arch}`;
}

export const ACCEPT_ALL_MANIFESTS = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** A digest that nothing in the fixture tree has. */
export const ABSENT_DIGEST = "sha256:" + "0123456789abcdef".repeat(4);

export function readFile(p: string): Buffer {
  return fs.readFileSync(p);
}
