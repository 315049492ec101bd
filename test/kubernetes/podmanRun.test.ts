/**
 * The command lines for a host without kubelet: the README prints exactly
 * what registryGenerateArgv / registryRunArgv build (test/e2e/podman-run.test.ts
 * runs them), and paths the engines would misread are refused.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { registryGenerateArgv, registryRunArgv } from "../../src/kubernetes/podmanRun";
import { shCommand } from "../../src/shell";

const README = path.resolve(__dirname, "..", "..", "..", "README.md");

/** The README's sh blocks, with continuation lines joined. */
function readmeCommands(): string[] {
  const text = fs.readFileSync(README, "utf8");
  const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  return blocks.flatMap((b) => b.replace(/\\\n\s*/g, "").split("\n"));
}

describe("podman / docker run lines", () => {
  const example = { imagesDir: "/var/lib/images", configDir: "/etc/static-container-registry" };

  test("the README prints the generate and podman run lines exactly as built", () => {
    const lines = readmeCommands();
    for (const argv of [
      registryGenerateArgv({ ...example, listen: "5000" }),
      registryRunArgv({ ...example, engine: "podman" }),
    ]) {
      assert.ok(lines.includes(shCommand(argv)), `README lacks:\n${shCommand(argv)}`);
    }
    // docker takes the same options.
    assert.deepEqual(
      registryRunArgv({ ...example, engine: "docker" }).slice(1),
      registryRunArgv(example).slice(1),
    );
  });

  test("refuses what a volume option or a non-root container cannot take", () => {
    const cases = [
      {
        description: "relative",
        o: { ...example, imagesDir: "images" },
        want: /imagesDir "images" must be an absolute path/,
      },
      { description: "colon", o: { ...example, configDir: "/etc/a:b" }, want: /configDir "\/etc\/a:b"/ },
      { description: "root", o: { ...example, uid: 0 }, want: /non-root user, not 0:101/ },
    ];
    for (const c of cases) assert.throws(() => registryRunArgv(c.o), c.want, c.description);
  });
});
