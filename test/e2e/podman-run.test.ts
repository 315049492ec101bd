/**
 * The registry on a host without a kubelet, for real: the `generate` and
 * `podman run` command lines the README prints (registryGenerateArgv and
 * registryRunArgv) are run as built, with podman's storage in a temp dir.
 * No image can be downloaded here, so the test first makes one from
 * Debian's nginx: the binary, its njs module and the libraries `ldd` names for both, plus an
 * /etc/passwd with the official images' nginx user (101), imported with
 * `podman import`. Then skopeo copies every fixture from the container, and
 * the container's nginx is checked to run as 101 without capabilities, with
 * a read-only root and read-only config and images.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { registryGenerateArgv, registryRunArgv } from "../../src/kubernetes/podmanRun";
import { DEFAULT_NJS_MODULE_PATH } from "../../src/nginx/standalone";
import { podmanStorageArgs } from "../support/podman";
import { assertSameImage, pullToDir } from "../support/skopeo";
import { freePort, run, runAny, waitForPort } from "../support/tools";
import { buildFixtures, CLI, REPO_ROOT, runClient, scratch, stopAll, tools } from "./harness";
const IMAGE = `localhost/scr-debian-nginx:${process.pid}`;
const NAME = `scr-podman-run-${process.pid}`;

/** A root filesystem holding Debian's nginx and exactly the shared libraries it loads, as a tar. */
function nginxRootfsTar(dir: string): string {
  const root = path.join(dir, "rootfs");
  const nginx = run("sh", ["-c", "command -v nginx || echo /usr/sbin/nginx"]).stdout.trim();
  // The standalone config loads the njs module (list endpoints) from where the official images have it too.
  const libs = (f: string) =>
    run("ldd", [f])
      .stdout.split("\n")
      .map((l) => l.match(/(\/\S+) \(0x/)?.[1])
      .filter((p): p is string => p !== undefined);
  const needed = new Map<string, string>([
    ["/usr/sbin/nginx", nginx],
    [DEFAULT_NJS_MODULE_PATH, DEFAULT_NJS_MODULE_PATH],
  ]);
  for (const f of [nginx, DEFAULT_NJS_MODULE_PATH]) for (const l of libs(f)) needed.set(l, l);
  assert.ok(
    [...needed.keys()].some((l) => l.includes("libc.so")),
    "ldd found libc",
  );
  for (const [inImage, onHost] of needed) {
    fs.mkdirSync(path.join(root, path.dirname(inImage)), { recursive: true });
    fs.copyFileSync(onHost, path.join(root, inImage)); // follows symlinks
    fs.chmodSync(path.join(root, inImage), 0o755);
  }
  fs.mkdirSync(path.join(root, "etc"), { recursive: true });
  fs.writeFileSync(
    path.join(root, "etc/passwd"),
    "root:x:0:0::/root:/bin/false\nnginx:x:101:101::/nonexistent:/bin/false\n",
  );
  fs.writeFileSync(path.join(root, "etc/group"), "root:x:0:\nnginx:x:101:\n");
  const tar = path.join(dir, "rootfs.tar");
  run("tar", ["-C", root, "-cf", tar, "."]);
  return tar;
}

const stops: (() => void)[] = [];
after(async () => {
  for (const stop of stops.reverse()) stop();
  await stopAll();
});

describe("podman run of the registry (a host without kubelet)", () => {
  test("the README's generate + podman run lines serve every fixture to skopeo, as 101, read-only", async (t) => {
    if (!tools(t, "podman", "skopeo", "nginx", "ldd", "tar")) return;
    const fx = await buildFixtures();
    const dir = scratch("podman-run");
    const engine = podmanStorageArgs(dir);
    // Rootful podman asks the runtime to raise the container's open files and process limits
    // above its own; a test machine (itself a container) may not allow that. Lower limits can
    // always be set: an engine setting, so the run line stays the README's.
    const conf = path.join(dir, "containers.conf");
    fs.writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n');
    const env = { ...process.env, CONTAINERS_CONF: conf };
    const podman = (args: string[]) => runClient("podman", [...engine, ...args], { env });

    podman(["import", nginxRootfsTar(dir), IMAGE]);

    const port = await freePort();
    const configDir = path.join(dir, "config");
    const [cli, ...genArgs] = registryGenerateArgv({
      imagesDir: fx.root,
      configDir,
      listen: `127.0.0.1:${port}`,
      cli: [process.execPath, CLI],
    });
    run(cli, genArgs, { cwd: REPO_ROOT });
    assert.ok(fs.existsSync(path.join(configDir, "nginx.conf")));

    const argv = registryRunArgv({
      engineArgs: engine,
      configDir,
      imagesDir: fx.root,
      image: IMAGE,
      name: NAME,
    });
    assert.equal(argv[0], "podman");
    const started = runClient(argv[0], argv.slice(1), { env });
    const id = started.stdout.trim();
    stops.push(() => {
      runAny("podman", [...engine, "rm", "--force", "--time", "5", id], { env });
    });
    await waitForPort(port, 30000).catch((err) => {
      throw new Error(`${err.message}\n${runAny("podman", [...engine, "logs", id], { env }).stderr}`);
    });

    // The container's nginx: its user, capabilities and mounts, seen from here.
    const pid = podman(["inspect", "--format", "{{.State.Pid}}", id]).stdout.trim();
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    assert.match(status, /^Uid:\s+101\s+101\s+101\s+101$/m);
    assert.match(status, /^Gid:\s+101\s+101\s+101\s+101$/m);
    assert.match(status, /^CapEff:\s+0+$/m);
    assert.match(status, /^CapBnd:\s+0+$/m);
    assert.match(status, /^NoNewPrivs:\s+1$/m);
    const mounts = fs
      .readFileSync(`/proc/${pid}/mounts`, "utf8")
      .split("\n")
      .map((l) => l.split(" "));
    const opts = (target: string) => mounts.find((m) => m[1] === target)?.[3].split(",") ?? [];
    for (const target of ["/", "/etc/static-container-registry", "/srv/static-container-registry"])
      assert.ok(opts(target).includes("ro"), `${target} is read-only: ${opts(target).join(",")}`);
    assert.ok(opts("/run/static-container-registry").includes("rw"), "the runtime tmpfs is writable");

    const out = scratch("podman-run-pulled");
    for (const img of fx.images) {
      const dest = path.join(out, img.repo, img.tag);
      pullToDir(`127.0.0.1:${port}`, img.reference, dest);
      assertSameImage(dest, img);
    }

    // Logs go to the engine: the pulls above are in nginx's pull log, one JSON object per
    // request (which conmon writes to the container's log file on its own time: wait for the lines).
    const pulled = /^\{.*"method":"GET",.*"status":200,.*"request":"\/v2\/[^"]+\/manifests\/[^"]+"\}$/m;
    let logs = "";
    for (const deadline = Date.now() + 15000; ; await new Promise((r) => setTimeout(r, 200))) {
      const r = runAny("podman", [...engine, "logs", id], { env });
      logs = r.stdout + r.stderr;
      if (pulled.test(logs) || Date.now() > deadline) break;
    }
    assert.match(logs, pulled);
  });
});
