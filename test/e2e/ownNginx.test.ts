/**
 * The README's "Run it with your own nginx" example as written (the blocks
 * marked `own-nginx`): its generate lines, its whole nginx.conf and its start
 * line, with only paths and the port replaced, against real nginx — skopeo
 * copies an image byte for byte, an unknown one is a JSON 404, and the pull
 * log the nginx.conf names gets one JSON line per request.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { DEFAULT_NJS_MODULE_PATH } from "../../src/nginx/standalone";
import { chmodReadable } from "../nginx/fixture";
import { stopDaemon } from "../support/procs";
import { readmeBlocks, runReadmeShell, substitute } from "../support/readme";
import { freePort, waitForPort, which } from "../support/tools";
import { CLI, buildFixtures, request, runClient, scratch, stopAll, tools } from "./harness";

let daemon: number | undefined;
after(async () => {
  if (daemon !== undefined) await stopDaemon(daemon);
  await stopAll();
});

describe("README: run it with your own nginx", () => {
  test("the generate lines, the whole nginx.conf and the start line, as written", async (t) => {
    if (!tools(t, "nginx", "skopeo")) return;
    const fx = await buildFixtures();
    const work = path.dirname(fx.root);
    const etc = path.join(work, "etc-registry");
    fs.mkdirSync(etc);
    const log = path.join(work, "sh.log");
    const pullLog = path.join(work, "registry.json");
    const pidFile = path.join(work, "registry.pid");
    const port = await freePort();

    const blocks = readmeBlocks("own-nginx");
    assert.deepEqual(
      blocks.map((b) => b.lang),
      ["sh", "nginx"],
      "the README's own-nginx example: the commands, then nginx.conf",
    );
    const [commands, conf] = blocks;
    assert.match(conf.text, new RegExp(`^load_module ${DEFAULT_NJS_MODULE_PATH};$`, "m"));
    const run = readmeBlocks("own-nginx-run");
    assert.equal(run.length, 1, "the README's start and reload lines");
    const env = { ...process.env, PATH: `${path.dirname(which("nginx")!)}:${process.env.PATH ?? ""}` };

    runReadmeShell(
      substitute(commands.text, [
        ["npx static-container-registry", `"${process.execPath}" "${CLI}"`],
        ["/etc/registry", etc],
        ["/srv/images", fx.root],
      ]),
      log,
      env,
    );
    fs.writeFileSync(
      path.join(etc, "nginx.conf"),
      substitute(conf.text, [
        ["/etc/registry", etc],
        ["/run/registry.pid", pidFile],
        ["/var/log/registry.json", pullLog],
        ["listen 5000;", `listen 127.0.0.1:${port};`],
      ]),
    );
    // As root, nginx's workers run as nobody: they read the images and nothing else.
    chmodReadable(fx.root);
    const [start] = run[0].text.split("\n").filter((l) => l.trim() !== "");
    runReadmeShell(substitute(start, [["/etc/registry", etc]]), log, env);
    daemon = Number(fs.readFileSync(pidFile, "utf8"));
    await waitForPort(port, 15000);

    const img = fx.images.find((i) => i.reference === "library/alpine:3.19")!;
    const dest = path.join(scratch("own-nginx"), "copy");
    runClient("skopeo", [
      "--insecure-policy",
      "copy",
      "--src-tls-verify=false",
      `docker://127.0.0.1:${port}/${img.reference}`,
      `dir:${dest}`,
    ]);
    assert.ok(
      fs.readFileSync(path.join(dest, "manifest.json")).equals(fs.readFileSync(img.manifestPath)),
      "the manifest, byte for byte",
    );
    for (const b of img.blobs) {
      const hex = b.digest.slice("sha256:".length);
      assert.equal(fs.statSync(path.join(dest, hex)).size, b.size, b.digest);
    }
    const missing = await request(port, "GET", "/v2/library/alpine/manifests/nope");
    assert.equal(missing.status, 404);
    assert.match(missing.body.toString(), /"code":"MANIFEST_UNKNOWN"/);

    // The pull log the nginx.conf names: one JSON object per request.
    await stopDaemon(daemon);
    daemon = undefined;
    const lines = fs
      .readFileSync(pullLog, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { repository: string; digest: string; status: number });
    for (const d of [img.digest, ...img.blobs.map((b) => b.digest)])
      assert.ok(
        lines.some((l) => l.repository === img.repo && l.digest === d && l.status === 200),
        `${d} in the pull log`,
      );
    assert.ok(
      lines.some((l) => l.status === 404),
      "the 404 too",
    );
  });
});
