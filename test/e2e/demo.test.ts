/**
 * The README's first two lines on a machine with no network: after `npm ci`,
 * `npx static-container-registry demo` — run as written, from the checkout,
 * inside a network namespace that has nothing but loopback — builds its
 * images, serves them on 127.0.0.1:5000, prints the pull commands, and skopeo
 * and ctr (in the same namespace) pull from it; the runnable image's program
 * runs and greets. Stopping the demo removes its images.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { DEMO_GREETING } from "../../src/demo/tree";
import { requireRoot, run, startProcess, type Server } from "../support/tools";
import { REPO_ROOT, hostPlatform, runClient, scratch, startContainerd, stopAll, tools } from "./harness";

const stops: Server[] = [];
after(async () => {
  for (const s of stops.reverse()) await s.stop();
  await stopAll();
});

async function waitFor(
  server: Server,
  re: RegExp,
  timeoutMs: number,
  what: string,
): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(server.output());
    if (m) return m;
    if (server.proc.exitCode !== null || server.proc.signalCode !== null)
      throw new Error(`${what} exited before printing ${re}:\n${server.output()}`);
    if (Date.now() > deadline)
      throw new Error(`${what}: no ${re} after ${timeoutMs} ms:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("demo", () => {
  test("npx static-container-registry demo, offline: serves, skopeo and ctr pull, the image runs", async (t) => {
    if (!requireRoot(t, "the demo test runs it in a network namespace of its own")) return;
    if (!tools(t, "nginx", "skopeo", "containerd", "ctr", "unshare", "nsenter", "ip", "tar")) return;

    // A network namespace with loopback only: no registry, no npm, nothing outside.
    const holder = startProcess("unshare", ["--net", "sh", "-c", "ip link set lo up && exec sleep 3600"]);
    stops.push(holder);
    const netns = `--net=/proc/${holder.pid}/ns/net`;
    for (const deadline = Date.now() + 10000; ;) {
      const r = run("nsenter", [netns, "ip", "-o", "link", "show", "lo"]);
      if (/\bUP\b/.test(r.stdout)) break;
      if (Date.now() > deadline) throw new Error(`loopback not up in the demo's namespace: ${r.stdout}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const inNs = (cmd: string, args: string[]) => runClient("nsenter", [netns, cmd, ...args]);
    assert.equal(run("nsenter", [netns, "ip", "-o", "route", "show"]).stdout.trim(), "", "no route out");

    // The README's command, as written, from the checkout (npx finds the package's own bin).
    const demo = startProcess("nsenter", [netns, "npx", "static-container-registry", "demo"], {
      cwd: REPO_ROOT,
      env: { ...process.env, npm_config_offline: "true", npm_config_update_notifier: "false" },
    });
    stops.push(demo);
    // The first npx of a checkout links the package into npx's cache (and builds it): minutes on a busy machine.
    await waitFor(demo, /^catalog: http:\/\/127\.0\.0\.1:5000\/ /m, 300_000, "the demo");
    const out = demo.output();
    assert.match(out, /registry ready at http:\/\/127\.0\.0\.1:5000\/v2\//);
    const digest = /^ {2}demo\/hello:1\.0 .* (sha256:[0-9a-f]{64})$/m.exec(out)?.[1];
    assert.ok(digest, `the demo prints the images and their digests:\n${out}`);
    const root = /^demo images in (\/\S+) \(removed/m.exec(out)?.[1];
    assert.ok(root && fs.existsSync(root), out);
    for (const cmd of [
      "skopeo copy --src-tls-verify=false docker://127.0.0.1:5000/demo/hello:1.0",
      "ctr images pull --plain-http 127.0.0.1:5000/demo/hello:1.0",
      "podman run --rm --tls-verify=false 127.0.0.1:5000/demo/hello:1.0",
    ])
      assert.ok(out.includes(cmd), `prints: ${cmd}`);

    // skopeo, in the namespace: the index's child for this machine, and the dir: tree image.
    const copy = path.join(scratch("demo-skopeo"), "hello");
    inNs("skopeo", [
      "--insecure-policy",
      "copy",
      "--src-tls-verify=false",
      "docker://127.0.0.1:5000/demo/hello:1.0",
      `dir:${copy}`,
    ]);
    const manifest = JSON.parse(fs.readFileSync(path.join(copy, "manifest.json"), "utf8")) as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    const config = JSON.parse(fs.readFileSync(path.join(copy, manifest.config.digest.slice(7)), "utf8"));
    assert.equal(`${config.os}/${config.architecture}`, hostPlatform());
    assert.deepEqual(config.config.Entrypoint, ["/hello"]);
    // The runnable image runs: its entrypoint, unpacked from the pulled layer.
    const rootfs = scratch("demo-rootfs");
    run("tar", ["-xzf", path.join(copy, manifest.layers[0].digest.slice(7)), "-C", rootfs]);
    assert.equal(run(path.join(rootfs, "hello"), []).stdout, `${DEMO_GREETING}\n`);
    const inspect = JSON.parse(
      inNs("skopeo", ["inspect", "--tls-verify=false", "docker://127.0.0.1:5000/demo/notes:1.0"]).stdout,
    ) as { Architecture: string; Layers: string[] };
    assert.equal(inspect.Architecture, "amd64");
    assert.equal(inspect.Layers.length, 1);

    // ctr pulls in the namespace (the client fetches; containerd stores), by tag and by digest.
    const cd = await startContainerd();
    const ctr = (args: string[]) => inNs("ctr", ["-a", cd.socket, "-n", "demo", ...args]).stdout;
    ctr(["images", "pull", "--plain-http", "127.0.0.1:5000/demo/hello:1.0"]);
    ctr(["images", "pull", "--plain-http", `127.0.0.1:5000/demo/hello@${digest}`]);
    const listed = ctr(["images", "ls", "-q"]).split("\n").filter(Boolean).sort();
    assert.deepEqual(listed, [`127.0.0.1:5000/demo/hello:1.0`, `127.0.0.1:5000/demo/hello@${digest}`]);
    assert.ok(ctr(["images", "ls"]).includes(digest), "the tag resolves to the printed digest");

    // Stopping npx stops the demo (npm exits at once; the demo sees its parent go, within a
    // second), which stops nginx and removes its images.
    await demo.stop();
    stops.splice(stops.indexOf(demo), 1);
    for (const deadline = Date.now() + 15000; fs.existsSync(root) && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 100));
    assert.ok(!fs.existsSync(root), `${root} removed:\n${demo.output().slice(-1500)}`);
  });
});
