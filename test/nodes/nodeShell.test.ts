/**
 * How a node step's text runs: as an SSH command, i.e. one `sh -c` argument
 * on the node. The root branch runs for real; the sudo branch with an `id`
 * that says 1000 and a `sudo` that records its arguments (no real sudo here:
 * what is checked is that `-n` comes first and the script arrives whole).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { asRoot, drainingStdin, ROOT_SH_FROM_STDIN, stdinScript } from "../../src/nodes/nodeShell";
import { runAny, tmpDir } from "../support/tools";

/** A script that prints back awkward text: quotes, `$`, backslashes, a here-document. */
const TRICKY = `set -eu
printf '%s\\n' "it's \\$HOME: \\\\n" 'a "b"'
cat <<'EOF'
$(not run) \`nor this\`
EOF
`;
const TRICKY_OUT = `it's $HOME: \\n\na "b"\n$(not run) \`nor this\`\n`;

/** A PATH dir whose `id -u` prints 1000 and whose `sudo` logs its first argument and runs the rest. */
function notRoot(): { bin: string; log: string } {
  const bin = tmpDir("not-root");
  const log = path.join(bin, "sudo.log");
  fs.writeFileSync(path.join(bin, "id"), "#!/bin/sh\necho 1000\n", { mode: 0o755 });
  fs.writeFileSync(path.join(bin, "sudo"), `#!/bin/sh\nprintf '%s\\n' "$1" >> ${log}\nshift\nexec "$@"\n`, {
    mode: 0o755,
  });
  return { bin, log };
}

test("asRoot: the script runs byte for byte, as root directly and through sudo -n otherwise", () => {
  const direct = runAny("sh", ["-c", asRoot(TRICKY)]);
  assert.equal(direct.status, 0, direct.stderr);
  if (process.getuid?.() === 0) assert.equal(direct.stdout, TRICKY_OUT);

  const { bin, log } = notRoot();
  const viaSudo = runAny("sh", ["-c", asRoot(TRICKY)], {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
  });
  assert.equal(viaSudo.status, 0, viaSudo.stderr);
  assert.equal(viaSudo.stdout, TRICKY_OUT);
  assert.equal(fs.readFileSync(log, "utf8"), "-n\n", "sudo asked never to prompt");
});

test("asRoot: a 100 KiB script fits the 128 KiB one argument may have (the text holds it once)", () => {
  const script = `set -eu\n# ${"x".repeat(100 * 1024)}\necho ran\n`;
  const r = runAny("sh", ["-c", asRoot(script)]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "ran\n");
});

test("from stdin: the command runs the whole script (1 MiB here), through sudo -n too; a cut one runs nothing", () => {
  const script = stdinScript(`set -eu\n# ${"x".repeat(1024 * 1024)}\n${TRICKY}`);
  const direct = runAny("sh", ["-c", ROOT_SH_FROM_STDIN], { input: script });
  assert.equal(direct.status, 0, direct.stderr);
  assert.equal(direct.stdout, TRICKY_OUT);

  const { bin, log } = notRoot();
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  const viaSudo = runAny("sh", ["-c", ROOT_SH_FROM_STDIN], { input: script, env });
  assert.equal(viaSudo.status, 0, viaSudo.stderr);
  assert.equal(viaSudo.stdout, TRICKY_OUT);
  assert.equal(fs.readFileSync(log, "utf8"), "-n\n");

  // Cut short on the way: the brace group never closes, so not even its first line runs.
  const cut = stdinScript(`echo first\n${TRICKY}`);
  const r = runAny("sh", ["-c", ROOT_SH_FROM_STDIN], { input: cut.slice(0, cut.length - 20) });
  assert.notEqual(r.status, 0);
  assert.equal(r.stdout, "");
});

test("drainingStdin: the command reads its stdin to the end, then runs", () => {
  const r = runAny("sh", ["-c", drainingStdin(`echo done`)], { input: "x".repeat(4 * 1024 * 1024) });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "done\n");
});
