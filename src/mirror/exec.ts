/**
 * Runs one mirror script (see script.ts) with `sh`, in a process group of its
 * own so that stopping it stops skopeo too, and turns what it printed into an
 * outcome. skopeo's fatal message becomes the one-line error. The lines of
 * the provenance step (`provenance …`, `verified …`) are passed on as they
 * are, for the CLI to count (src/provenance/report.ts reads them).
 */
import { spawn } from "node:child_process";

export type Outcome =
  | { status: "copied" | "skipped"; digest: string; warnings: string[]; provenance: string[] }
  | { status: "failed"; error: string; warnings: string[]; provenance: string[] };

/** The message of skopeo's last `level=fatal msg="…"` line, else the last line of stderr. */
export function errorLine(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /level=fatal msg="((?:[^"\\]|\\.)*)"/.exec(lines[i]);
    if (m) return JSON.parse(`"${m[1]}"`) as string;
  }
  return lines.at(-1) ?? "failed without a message";
}

/** What the script printed on stdout, as an outcome (the script's exit status decides failure). */
export function outcomeOf(code: number | null, stdout: string, stderr: string): Outcome {
  const lines = stdout.split("\n");
  const warnings = lines.filter((l) => l.startsWith("warning: ")).map((l) => l.slice("warning: ".length));
  const provenance = lines.filter((l) => /^(provenance|verified) /.test(l));
  if (code !== 0) return { status: "failed", error: errorLine(stderr), warnings, provenance };
  const m = /^(copied|skipped) \S+ (sha256:[a-f0-9]{64})/m.exec(stdout);
  if (!m)
    return {
      status: "failed",
      error: `unexpected output: ${stdout.trim() || stderr.trim()}`,
      warnings,
      provenance,
    };
  return { status: m[1] as "copied" | "skipped", digest: m[2], warnings, provenance };
}

export interface Running {
  done: Promise<Outcome>;
  /** Stops the script and everything it started. */
  stop: () => void;
}

export function runScript(script: string, env: NodeJS.ProcessEnv = process.env): Running {
  const child = spawn("sh", ["-c", script], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Outcome>((resolve) => {
    child.once("error", (e) => resolve({ status: "failed", error: e.message, warnings: [], provenance: [] }));
    child.once("close", (code, signal) =>
      resolve(
        outcomeOf(code ?? (signal ? 128 : 1), stdout, stderr + (signal ? `\nstopped by ${signal}` : "")),
      ),
    );
  });
  const stop = () => {
    try {
      if (child.pid) process.kill(-child.pid, "SIGTERM");
    } catch {
      /* already gone */
    }
  };
  return { done, stop };
}
