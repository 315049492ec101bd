/**
 * The node-side wiring script's health filter and CA placement, run for real
 * under sh + coreutils (curl probes) and with busybox alone on PATH (wget
 * under timeout, as in an alpine image; test/support/scriptShells.ts): other nodes' registries that do not
 * answer — one that accepts connections and never replies (what a blackholed
 * peer costs a client), one that refuses — are left out of every hosts.toml,
 * and put back once they answer; the node's own entry is never probed. The
 * rest of the script (idempotence, refusal of foreign files, the repeating
 * mode) is covered by test/kubernetes/wiringDaemonSet.test.ts.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { WIRING_SCRIPT, WIRING_SCRIPT_COMMANDS, wiringFiles } from "../../src/nodes/keepWired";
import { containerdHostsTomls } from "../../src/nodes/wiring";
import { spawn } from "node:child_process";
import { scriptShells } from "../support/scriptShells";
import { freePort, tmpDir } from "../support/tools";

/** Runs the script without blocking this process (its peers are served from here). */
function runScript(sh: string, args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const p = spawn(sh, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    p.once("close", (status) => resolve({ status, stderr }));
  });
}

const servers: net.Server[] = [];
after(() => servers.forEach((s) => s.close()));

/** A registry stand-in answering /v2/ with 200 while `answering`, else holding each connection silently. */
async function peer(): Promise<{ port: number; setAnswering: (on: boolean) => void }> {
  let answering = true;
  const held: net.Socket[] = [];
  const srv = http.createServer((req, res) => {
    if (answering) res.end("{}");
    else held.push(req.socket); // never answered: the client's own timeout must end it
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    setAnswering: (on) => {
      answering = on;
      if (on) held.splice(0).forEach((s) => s.destroy());
    },
  };
}

for (const shell of scriptShells(WIRING_SCRIPT_COMMANDS)) {
  describe(`wiring script's health filter under ${shell.name}`, () => {
    test("peers that do not answer are left out of hosts.toml, and come back when they answer", async (t) => {
      const sh = shell.prepare(t);
      if (!sh) return;
      const up = await peer();
      const silent = await peer();
      silent.setAnswering(false);
      const refused = await freePort();
      const own = "127.0.0.1:5000"; // nothing listens there: never probed, always kept first
      const peers = [`127.0.0.1:${up.port}`, `127.0.0.1:${silent.port}`, `127.0.0.1:${refused}`];
      const tomls = containerdHostsTomls({
        endpoint: own,
        fallbacks: peers,
        repositories: ["docker.io/library/alpine"],
      });
      const src = tmpDir("keepwired-src");
      const files = wiringFiles(tomls, {
        probes: peers.map((p) => ({ endpoint: p, url: `http://${p}/v2/` })),
      });
      for (const [k, v] of Object.entries(files)) fs.writeFileSync(path.join(src, k), v);
      const certs = tmpDir("keepwired-certs");
      const wire = () =>
        runScript(sh.sh, [path.join(src, WIRING_SCRIPT), certs, src], { PATH: sh.path, NODE_NAME: "node-a" });
      const hostsOf = () =>
        [
          ...fs
            .readFileSync(path.join(certs, "docker.io", "hosts.toml"), "utf8")
            .matchAll(/^\[host\."([^"]+)"\]$/gm),
        ].map((m) => m[1]);

      const t0 = Date.now();
      const r = await wire();
      const ms = Date.now() - t0;
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(hostsOf(), [`http://${own}/v2/docker.io`, `http://127.0.0.1:${up.port}/v2/docker.io`]);
      for (const gone of [silent.port, refused])
        assert.match(
          r.stderr,
          new RegExp(`node node-a: 127\\.0\\.0\\.1:${gone} does not answer: left out until it does`),
        );
      assert.ok(ms < 10000, `probes run at once and end by their timeout (${ms} ms)`);
      const text = fs.readFileSync(path.join(certs, "docker.io", "hosts.toml"), "utf8");
      assert.doesNotMatch(text, /\n\n\n/, "one blank line between entries");
      assert.ok(
        text.startsWith(tomls["docker.io"].split("\n\n")[0]),
        "the header and server line as generated",
      );

      silent.setAnswering(true);
      const again = await wire();
      assert.equal(again.status, 0, again.stderr);
      assert.deepEqual(hostsOf(), [
        `http://${own}/v2/docker.io`,
        `http://127.0.0.1:${up.port}/v2/docker.io`,
        `http://127.0.0.1:${silent.port}/v2/docker.io`,
      ]);
      // Every peer answering: the file is exactly the generated one.
      const all = net.createServer((c) => c.end("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
      servers.push(all);
      await new Promise<void>((res) => all.listen(refused, "127.0.0.1", res));
      assert.equal((await wire()).status, 0);
      assert.equal(fs.readFileSync(path.join(certs, "docker.io", "hosts.toml"), "utf8"), tomls["docker.io"]);
    });

    test("a source file gone mid-pass (the watcher's delete removes them): the pass fails, naming it, and leaves no temp file", async (t) => {
      const sh = shell.prepare(t);
      if (!sh) return;
      const tomls = containerdHostsTomls({
        endpoint: "127.0.0.1:5000",
        fallbacks: [],
        repositories: ["docker.io/library/alpine", "quay.io/x/y"],
      });
      const src = tmpDir("keepwired-gone-src");
      const files = wiringFiles(tomls, {});
      for (const [k, v] of Object.entries(files)) fs.writeFileSync(path.join(src, k), v);
      // The list still names quay.io's file; the file itself is gone.
      const quay = Object.keys(files).filter((k) => k !== WIRING_SCRIPT && files[k] === tomls["quay.io"]);
      assert.equal(quay.length, 1, Object.keys(files).join(" "));
      fs.rmSync(path.join(src, quay[0]));
      const certs = tmpDir("keepwired-gone-certs");
      const r = await runScript(sh.sh, [path.join(src, WIRING_SCRIPT), certs, src], {
        PATH: sh.path,
        NODE_NAME: "node-a",
      });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, new RegExp(`node node-a: cannot read ${src}/${quay[0]}`));
      const left = fs
        .readdirSync(certs, { recursive: true })
        .map(String)
        .filter((f) => f.includes(".tmp."));
      assert.deepEqual(left, [], "no temp file left in the certs dir");
    });

    test("places the CA at $CA_FILE behind the marker, and never over a file of someone else's", async (t) => {
      const sh = shell.prepare(t);
      if (!sh) return;
      const pem = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n";
      const src = tmpDir("keepwired-ca-src");
      const files = wiringFiles(
        containerdHostsTomls({ endpoint: "127.0.0.1:5000", upstreamHost: "a.invalid" }),
        {
          caPem: pem,
        },
      );
      for (const [k, v] of Object.entries(files)) fs.writeFileSync(path.join(src, k), v);
      const certs = tmpDir("keepwired-ca-certs");
      const caDir = tmpDir("keepwired-ca-dir");
      const caFile = path.join(caDir, "sub", "ca.crt");
      const wire = () =>
        runScript(sh.sh, [path.join(src, WIRING_SCRIPT), certs, src], {
          PATH: sh.path,
          NODE_NAME: "node-c",
          CA_FILE: caFile,
        });
      const r = await wire();
      assert.equal(r.status, 0, r.stderr);
      const written = fs.readFileSync(caFile, "utf8");
      assert.match(written, /^# Generated by static-container-registry/);
      assert.ok(written.endsWith(pem), "the PEM as given");
      assert.equal(fs.statSync(caFile).mode & 0o777, 0o644);

      fs.writeFileSync(caFile, "their own CA\n");
      const refused = await wire();
      assert.equal(refused.status, 1);
      assert.match(
        refused.stderr,
        /exists and was not written by static-container-registry: not overwriting it/,
      );
      assert.equal(fs.readFileSync(caFile, "utf8"), "their own CA\n");
      assert.deepEqual(fs.readdirSync(path.dirname(caFile)), ["ca.crt"], "no temp file left");
    });
  });
}
