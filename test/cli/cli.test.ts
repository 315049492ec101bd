import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { blob, configBlob, imageManifest, writeTagDir } from "../inventory/tree";
import {
  freePort,
  inPrivateMounts,
  requireRoot,
  requireTool,
  runAny,
  startProcess,
  tmpDir,
  type Server,
} from "../support/tools";

const BIN = path.resolve(__dirname, "../../../bin/static-container-registry.js");
const cli = (...args: string[]) => runAny(process.execPath, [BIN, ...args]);

function goodTree(): string {
  const root = tmpDir("cli");
  const cfg = configBlob();
  const l = blob("layer");
  writeTagDir(root, "library/app", "1.0", imageManifest(cfg, [l]), [cfg, l]);
  writeTagDir(root, "library/app", "2.0", imageManifest(cfg, [l, blob("more")]), [cfg, l, blob("more")]);
  return root;
}

function badTree(): string {
  const root = goodTree();
  writeTagDir(root, "broken", "1", Buffer.from("{nope"), []);
  return root;
}

describe("static-container-registry CLI", () => {
  test("--help names the three commands; an unknown option is an error", () => {
    const help = cli("--help");
    assert.equal(help.status, 0);
    for (const c of ["generate", "check", "serve"]) assert.match(help.stdout, new RegExp(`\\b${c}\\b`));
    const bad = cli("check", "--frobnicate");
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /unknown option '--frobnicate'/);
  });

  test("check prints a summary and exits 0 on a clean tree", () => {
    const r = cli("check", goodTree());
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /repositories\s+1\n/);
    assert.match(r.stdout, /tags\s+2\n/);
    assert.match(r.stdout, /manifests\s+2\n/);
    assert.match(r.stdout, /unique blobs\s+3\n/);
    assert.match(r.stdout, /no problems/);
  });

  test("check --json lists every problem with its file and exits 1", () => {
    const r = cli("check", badTree(), "--json");
    assert.equal(r.status, 1);
    const out = JSON.parse(r.stdout);
    assert.equal(out.summary.tags, 2);
    assert.deepEqual(
      out.problems.map((p: { file: string }) => p.file),
      ["broken/1/manifest.json"],
    );
    assert.match(out.problems[0].message, /not valid JSON/);
  });

  test("check of a missing root says so", () => {
    const r = cli("check", "/nonexistent/images");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /images root \/nonexistent\/images does not exist/);
  });

  test("generate refuses a broken tree: problems on stderr, no output at all", () => {
    const out = path.join(tmpDir("cli"), "registry.conf");
    const r = cli("generate", badTree(), "-o", out);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /broken\/1\/manifest\.json: is not valid JSON/);
    assert.match(r.stderr, /nothing was written/);
    assert.equal(fs.existsSync(out), false);
  });

  test("generate prints the server include and, with --http, the maps it needs", () => {
    const root = goodTree();
    const server = cli("generate", root, "--server-root", "$registry_root");
    assert.equal(server.status, 0, server.stderr);
    assert.match(server.stdout, /location/);
    const http = cli("generate", root, "--http", "--server-root", "$registry_root");
    assert.equal(http.status, 0, http.stderr);
    assert.match(http.stdout, /map /);
    // The images root is written once; records name files relative to it (src/nginx/files.ts).
    assert.match(http.stdout, /map \$scr_name \$scr_root \{\n {4}default '\$registry_root\/';/);
    assert.match(http.stdout, /^ {4}library\/app 0;$/m);
    const prefixed = cli("generate", root, "--http", "--name-prefix", "mirror");
    assert.match(prefixed.stdout, /^ {4}mirror\/library\/app 0;$/m);
    const js = cli("generate", root, "--js");
    assert.equal(js.status, 0, js.stderr);
    assert.match(js.stdout, /^export default \{ tags: tags, catalog: catalog, referrers: referrers \};$/m);
    // Several images roots in one server: shared constants include the data parts.
    const constants = cli(
      "generate",
      root,
      "--http",
      "--only-constants",
      "--data-include",
      "/etc/nginx/registry.d/*.map",
    );
    assert.equal(constants.status, 0, constants.stderr);
    assert.match(constants.stdout, /include \/etc\/nginx\/registry\.d\/\*\.map;/);
    assert.doesNotMatch(constants.stdout, /library\/app/);
    const data = cli("generate", root, "--http", "--omit-constants", "--server-root", "/srv/a");
    assert.equal(data.status, 0, data.stderr);
    assert.doesNotMatch(data.stdout, /^map /m);
    assert.match(data.stdout, /^library\/app:1\.0 M.*\|=\/srv\/a\/library\/app\/1\.0\/manifest\.json;$/m);
    const lists = cli("generate", root, "--omit-constants", "--lists");
    assert.equal(lists.status, 0, lists.stderr);
    assert.match(lists.stdout, /^library\/app\|t\|0 '"1\.0","2\.0"';$/m);
    const conflict = cli("generate", root, "--omit-constants", "--only-constants");
    assert.notEqual(conflict.status, 0);
    assert.match(conflict.stderr, /cannot be used with/);
  });

  test("generate --standalone -o DIR writes a config nginx accepts", (t) => {
    const nginx = requireTool(t, "nginx");
    if (!nginx) return;
    const root = goodTree();
    const work = tmpDir("cli");
    const conf = path.join(work, "conf");
    // Not created beforehand: the printed hint creates it.
    const runtime = path.join(work, "run", "registry");
    const r = cli(
      "generate",
      root,
      "--standalone",
      "--listen",
      "127.0.0.1:5999",
      "--runtime-dir",
      runtime,
      "-o",
      conf,
    );
    assert.equal(r.status, 0, r.stderr);
    const nginxConf = fs.readFileSync(path.join(conf, "nginx.conf"), "utf8");
    assert.match(nginxConf, /listen\s+127\.0\.0\.1:5999/);
    // The hint, as printed, with nginx -t instead of a server in the foreground.
    const hint = /; run: (mkdir -p \S+ && nginx -c \S+ -p \S+ -e stderr)$/m.exec(r.stderr)?.[1];
    assert.ok(hint, r.stderr);
    // nginx opens /dev/stdout by name for its access log: give it a file, as a
    // terminal or a container runtime would (a Node pipe is a socket: ENXIO).
    const stdout = fs.openSync(path.join(work, "stdout"), "w");
    const check = spawnSync("sh", ["-c", hint.replace("&& nginx -c", `&& ${nginx} -t -c`)], {
      stdio: ["ignore", stdout, "pipe"],
      encoding: "utf8",
    });
    fs.closeSync(stdout);
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stderr, /test is successful/);
  });

  test("--no-ui: no catalog page from generate --standalone or --shared; refused where there is none to leave out", () => {
    const root = goodTree();
    const work = tmpDir("cli-ui");
    const standalone = (dir: string, ...extra: string[]) =>
      cli("generate", root, "--standalone", "--runtime-dir", path.join(work, "run"), "-o", dir, ...extra);
    assert.equal(standalone(path.join(work, "on")).status, 0);
    assert.ok(fs.existsSync(path.join(work, "on", "static-container-registry-ui.html")));
    assert.match(fs.readFileSync(path.join(work, "on", "nginx.conf"), "utf8"), /^ +location = \/ \{$/m);
    assert.equal(standalone(path.join(work, "off"), "--no-ui").status, 0);
    assert.ok(!fs.existsSync(path.join(work, "off", "static-container-registry-ui.html")));
    assert.doesNotMatch(fs.readFileSync(path.join(work, "off", "nginx.conf"), "utf8"), /location = \/ /);

    const shared = cli("generate", "--shared", "--into", path.join(work, "parts"), "--no-ui");
    assert.equal(shared.status, 0, shared.stderr);
    assert.ok(!fs.existsSync(path.join(work, "parts", "static-container-registry-ui.html")));
    assert.doesNotMatch(fs.readFileSync(path.join(work, "parts", "server.conf"), "utf8"), /location = \/ /);
    for (const [args, message] of [
      [[root, "--no-ui"], /--no-ui goes with --standalone or --into DIR --shared: the include has no page/],
      [
        [root, "--into", path.join(work, "parts"), "--name-prefix", "a", "--no-ui"],
        /--no-ui goes with --shared/,
      ],
    ] as const) {
      const r = cli("generate", ...args);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
    }
  });

  test("generate --standalone: --access-log and --metrics-listen", () => {
    const root = goodTree();
    const conf = (...flags: string[]) => {
      const dir = path.join(tmpDir("cli"), "conf");
      const r = cli("generate", root, "--standalone", ...flags, "-o", dir);
      assert.equal(r.status, 0, r.stderr);
      return fs.readFileSync(path.join(dir, "nginx.conf"), "utf8");
    };
    assert.match(conf(), /^ {4}access_log \/dev\/stdout static_container_registry buffer=64k flush=1s;$/m);
    assert.match(
      conf("--access-log", "combined"),
      /^ {4}access_log \/dev\/stdout combined buffer=64k flush=1s;$/m,
    );
    assert.match(conf("--access-log", "off"), /^ {4}access_log off;$/m);
    const bad = cli("generate", root, "--standalone", "--access-log", "common");
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /Allowed choices are json, combined, off/);
    const out = path.join(tmpDir("cli"), "conf");
    const m = cli("generate", root, "--standalone", "--metrics-listen", "127.0.0.1:9113", "-o", out);
    assert.equal(m.status, 0, m.stderr);
    assert.deepEqual(fs.readdirSync(out).sort(), [
      "nginx.conf",
      "static-container-registry-metrics.js",
      "static-container-registry-ui.html",
      "static-container-registry.js",
    ]);
    const noStandalone = cli("generate", root, "--metrics-listen", "127.0.0.1:9113");
    assert.equal(noStandalone.status, 2);
    assert.match(noStandalone.stderr, /--metrics-listen needs --standalone/);
  });

  test("bin/ without dist/ says to build, not a stack trace", () => {
    const copy = tmpDir("cli-nobuild");
    fs.mkdirSync(path.join(copy, "bin"));
    fs.copyFileSync(BIN, path.join(copy, "bin", "static-container-registry.js"));
    const r = runAny(process.execPath, [path.join(copy, "bin", "static-container-registry.js"), "--version"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /the CLI is not built yet\. Run `npm run build`/);
    assert.doesNotMatch(r.stderr, /MODULE_NOT_FOUND|at Module/);
  });

  test("serve --nginx with a path that is no program says so", () => {
    const r = cli("serve", goodTree(), "--nginx", "/nonexistent/nginx");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--nginx \/nonexistent\/nginx is not an executable file/);
  });

  test("serve says what to install when nginx is neither on PATH nor in the sbin dirs", (t) => {
    if (!requireRoot(t, "a machine without nginx is simulated in a private mount namespace (root)")) return;
    if (!requireTool(t, "unshare")) return;
    // Empty dirs over every place serve looks in besides PATH, and a PATH that holds node alone.
    const bin = tmpDir("cli-path");
    fs.symlinkSync(process.execPath, path.join(bin, "node"));
    const [cmd, ...args] = inPrivateMounts(
      'for d in /usr/sbin /usr/local/sbin; do mount -t tmpfs tmpfs "$d" || exit 99; done; ' +
        'test ! -e /sbin/nginx || exit 98; exec env PATH="$1" node "$2" serve "$3"',
      [bin, BIN, goodTree()],
    );
    const r = runAny(cmd, args);
    assert.equal(r.status, 127, r.stderr);
    assert.equal(
      r.stderr,
      "static-container-registry: nginx was not found on PATH or in /usr/sbin. Install it " +
        "(Debian/Ubuntu: apt-get install nginx-light; Fedora: dnf install nginx; macOS: brew install nginx) " +
        "or pass --nginx /path/to/nginx.\n",
    );
    assert.equal(r.stdout, "");
  });

  describe("serve", () => {
    let server: Server | undefined;
    after(async () => server?.stop());

    test("runs nginx in the foreground, prints the URL, answers /v2/, stops cleanly on SIGTERM", async (t) => {
      if (!requireTool(t, "nginx")) return;
      const port = await freePort();
      server = startProcess(process.execPath, [BIN, "serve", goodTree(), "--listen", `127.0.0.1:${port}`]);
      const deadline = Date.now() + 15000;
      while (!/registry ready at/.test(server.output()) && Date.now() < deadline) {
        assert.equal(server.proc.exitCode, null, server.output());
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(server.output(), new RegExp(`registry ready at http://127\\.0\\.0\\.1:${port}/v2/`));
      const res = await fetch(`http://127.0.0.1:${port}/v2/`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("docker-distribution-api-version"), "registry/2.0");
      const tags = await (await fetch(`http://127.0.0.1:${port}/v2/library/app/tags/list`)).json();
      assert.deepEqual(tags, { name: "library/app", tags: ["1.0", "2.0"] });
      const exited = new Promise<number | null>((r) => server!.proc.once("exit", (code) => r(code)));
      process.kill(server.pid, "SIGTERM");
      assert.equal(await exited, 0);
      // nginx is gone too: the port no longer answers
      await assert.rejects(fetch(`http://127.0.0.1:${port}/v2/`));
    });

    test("as root, --user nobody runs the workers as nobody in nobody's own group", async (t) => {
      if (!requireTool(t, "nginx") || !requireRoot(t, "nginx switches its workers' user only as root"))
        return;
      const passwd = fs
        .readFileSync("/etc/passwd", "utf8")
        .split("\n")
        .map((l) => l.split(":"));
      const nobody = passwd.find((f) => f[0] === "nobody");
      assert.ok(nobody, "this machine has a nobody user");
      const root = goodTree();
      for (let p = root; p !== "/"; p = path.dirname(p)) fs.chmodSync(p, fs.statSync(p).mode | 0o055);
      const port = await freePort();
      const s = startProcess(process.execPath, [
        BIN,
        "serve",
        root,
        "--listen",
        `127.0.0.1:${port}`,
        "--user",
        "nobody",
      ]);
      server = s;
      for (const deadline = Date.now() + 15000; !/registry ready at/.test(s.output());) {
        assert.ok(s.proc.exitCode === null && Date.now() < deadline, s.output());
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal((await fetch(`http://127.0.0.1:${port}/v2/library/app/manifests/1.0`)).status, 200);
      const master = fs
        .readFileSync(`/proc/${s.pid}/task/${s.pid}/children`, "utf8")
        .trim()
        .split(/\s+/)
        .map(Number);
      const workers = master.flatMap((m) =>
        fs
          .readFileSync(`/proc/${m}/task/${m}/children`, "utf8")
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map(Number),
      );
      assert.ok(workers.length > 0, "nginx has workers");
      for (const w of workers) {
        const status = fs.readFileSync(`/proc/${w}/status`, "utf8");
        assert.match(status, new RegExp(`^Uid:\\s+${nobody[2]}\\s`, "m"));
        assert.match(status, new RegExp(`^Gid:\\s+${nobody[3]}\\s`, "m"), "the user's primary group");
      }
      await s.stop();
    });
  });
});
