import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { shWriteFiles, type NodeFile } from "../../src/nodes/files";

describe("shWriteFiles", () => {
  it("writes every file with its content and mode, creating directories", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "scr-files-"));
    try {
      const files: NodeFile[] = [
        { path: `${root}/a/b/config.conf`, content: "x = 'y'\n$HOME `id`\nSCR_EOF\n", mode: "0644" },
        { path: `${root}/run.sh`, content: "#!/bin/sh\necho hi", mode: "0755" },
      ];
      const r = spawnSync("sh", ["-c", shWriteFiles(files)], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(fs.readFileSync(files[0].path, "utf8"), files[0].content);
      assert.equal(fs.readFileSync(files[1].path, "utf8"), "#!/bin/sh\necho hi\n");
      assert.equal((fs.statSync(files[1].path).mode & 0o777).toString(8), "755");
      assert.deepEqual(fs.readdirSync(root).sort(), ["a", "run.sh"], "no temp files left");
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  const bad: { description: string; file: NodeFile; want: RegExp }[] = [
    {
      description: "relative path",
      file: { path: "etc/x", content: "", mode: "0644" },
      want: /must be absolute/,
    },
    {
      description: "dot-dot",
      file: { path: "/etc/../x", content: "", mode: "0644" },
      want: /without "\.\."/,
    },
    { description: "space", file: { path: "/etc/a b", content: "", mode: "0644" }, want: /must be absolute/ },
    { description: "mode", file: { path: "/etc/x", content: "", mode: "rw" }, want: /not an octal mode/ },
  ];
  for (const c of bad) {
    it(`refuses a ${c.description}`, () => assert.throws(() => shWriteFiles([c.file]), c.want));
  }
});
