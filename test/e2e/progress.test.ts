/**
 * `mirror`'s progress as a person sees it: under a real pseudo-terminal
 * (util-linux `script`), the running size of each copy is redrawn in place on
 * one line, and what stays on the screen is one line per image and the
 * summary; with stdout and stderr not a terminal (a pipe, a log file), the
 * output is plain lines with no control characters.
 *
 * The upstream is our own registry serving the fixtures, reached through a
 * throttling proxy so that the 8 MiB layer takes a few seconds (several
 * redraws), and named `upstream.invalid` by a registries.conf.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { startThrottle } from "../support/throttle";
import { CLI, buildFixtures, scratch, startRegistry, stopAll, tools } from "./harness";

let closeThrottle: (() => Promise<void>) | undefined;
after(async () => {
  await closeThrottle?.();
  await stopAll();
});

const IMAGES = ["upstream.invalid/busybox:1.36", "upstream.invalid/big/layer:1.0"];

/**
 * Runs a command to its end without blocking the event loop (the throttling
 * proxy lives in this process); its stdout and stderr, and a timeout.
 */
function runAsync(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), 120_000);
    p.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(" ")}: ${code ?? signal}\n${stdout}\n${stderr}`));
    });
  });
}

/** The screen a terminal shows after `raw`: \r returns to the line's start, ESC[K erases to its end. */
function screen(raw: string): string[] {
  const lines: string[] = [];
  let line = "";
  let col = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (raw.startsWith("\x1b[K", i)) {
      line = line.slice(0, col);
      i += 2;
    } else if (c === "\r") col = 0;
    else if (c === "\n") {
      lines.push(line);
      line = "";
      col = 0;
    } else {
      line = line.slice(0, col) + c + line.slice(col + 1);
      col++;
    }
  }
  if (line) lines.push(line);
  return lines;
}

describe("mirror progress", () => {
  test("on a terminal: redrawn in place, then one line per image and the summary; else plain lines", async (t) => {
    if (!tools(t, "nginx", "skopeo", "script")) return;
    const fx = await buildFixtures();
    const upstream = await startRegistry(fx.root, ["--access-log", "off"]);
    const throttle = await startThrottle(upstream.port, 3 * 1024 * 1024);
    closeThrottle = throttle.close;
    const work = scratch("progress");
    const conf = path.join(work, "registries.conf");
    fs.writeFileSync(
      conf,
      `[[registry]]\nprefix = "upstream.invalid"\nlocation = "127.0.0.1:${throttle.port}"\ninsecure = true\n`,
    );
    const mirror = (root: string) => [CLI, "mirror", ...IMAGES, "--to", root, "--registries-conf", conf];

    // A pseudo-terminal: `script` runs the command on one and copies what it writes (stdout and stderr).
    const ttyRoot = path.join(work, "tty");
    const command = [process.execPath, ...mirror(ttyRoot)].map((a) => `'${a}'`).join(" ");
    const typescript = path.join(work, "typescript");
    await runAsync("script", ["-q", "-e", "-c", command, typescript]);
    // script's own header and footer lines ("Script started …") are not the program's.
    const raw = fs
      .readFileSync(typescript, "utf8")
      .replace(/^Script started[^\n]*\n/, "")
      .replace(/\n?Script done[^\n]*\n?$/, "\n");

    const redraws = [
      ...raw.matchAll(/\r\x1b\[K\[2\/2\] upstream\.invalid\/big\/layer:1\.0: ([0-9.]+ [KMG]?i?B)/g),
    ];
    assert.ok(redraws.length >= 3, `the big layer's copy was redrawn several times:\n${JSON.stringify(raw)}`);
    // In place: no new line between one redraw and the next.
    const first = redraws[0].index!;
    const last = redraws[redraws.length - 1].index!;
    assert.ok(!raw.slice(first, last).includes("\n"), "the progress stays on one line");
    const sizes = redraws.map((m) => m[1]);
    assert.ok(new Set(sizes).size >= 2, `the size moves: ${sizes.join(", ")}`);

    const shown = screen(raw).filter((l) => l.trim() !== "");
    // What stays: one line per image, the summary and what follows it; no progress line.
    assert.match(
      shown[0],
      /^\[1\/2\] copied  upstream\.invalid\/busybox:1\.36 -> upstream\.invalid\/busybox\/1\.36 \(sha256:/,
    );
    assert.match(
      shown[1],
      /^\[2\/2\] copied  upstream\.invalid\/big\/layer:1\.0 -> upstream\.invalid\/big\/layer\/1\.0 \(sha256:/,
    );
    assert.match(shown[2], /^2 images in .*: 2 copied, 0 skipped \(up to date\), 0 failed$/);
    assert.match(shown[shown.length - 1], /^dedupe: /);
    for (const l of shown)
      assert.doesNotMatch(l, /^\[\d\/2\] upstream\.invalid\/\S+: /, "no progress left over");

    // Not a terminal: the same run prints plain lines only.
    const plain = await runAsync(process.execPath, mirror(path.join(work, "pipe")));
    for (const [name, text] of [
      ["stdout", plain.stdout],
      ["stderr", plain.stderr],
    ] as const)
      assert.doesNotMatch(text, /[\r\x1b]/, `${name} has no control characters: ${JSON.stringify(text)}`);
    assert.deepEqual(
      plain.stdout
        .trim()
        .split("\n")
        .map((l) => l.replace(/\(sha256:.*$/, "")),
      shown.map((l) => l.replace(/\(sha256:.*$/, "").replace(/ in \S+:/, ` in ${path.join(work, "pipe")}:`)),
    );
  });
});
