/**
 * The shells a generated script must run under: sh (dash) with coreutils, as
 * in Debian-based images, and busybox with nothing but its applets on PATH, as
 * in alpine-based ones. busybox is a tool like any other: each test that runs
 * a script under it asks for it (requireTool: a failure in CI, a loud skip
 * elsewhere), so a machine without it never passes those tests silently.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { TestContext } from "node:test";
import { requireTool, tmpDir } from "./tools";

export interface PreparedShell {
  /** The shell to run a script file with. */
  sh: string;
  /** The PATH the script must run with. */
  path: string;
}

export interface ScriptShell {
  name: string;
  /** The shell for one test; undefined when the test must stop (the tool is missing: it was skipped). */
  prepare(t: TestContext): PreparedShell | undefined;
}

/**
 * Both shells; `applets` are the commands the script may call, the only ones
 * on busybox's PATH (so one it calls without listing it fails the test).
 */
export function scriptShells(applets: readonly string[]): ScriptShell[] {
  let bin: string | undefined;
  return [
    {
      name: "sh + coreutils",
      prepare: () => ({ sh: "sh", path: process.env.PATH ?? "/usr/bin:/bin" }),
    },
    {
      name: "busybox",
      prepare: (t) => {
        const busybox = requireTool(t, "busybox");
        if (!busybox) return undefined;
        if (!bin) {
          bin = tmpDir("busybox");
          fs.chmodSync(bin, 0o755); // also for scripts run as a pod's non-root user
          for (const applet of new Set(["sh", ...applets])) fs.symlinkSync(busybox, path.join(bin, applet));
        }
        return { sh: path.join(bin, "sh"), path: bin };
      },
    },
  ];
}
