/**
 * `static-container-registry` — a thin shell over scan + render.
 * Each subcommand lives in its own module; this file only wires arguments.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Command, CommanderError, Option } from "commander";
import { runCheck } from "./check";
import { runDemo } from "./demo";
import { UsageError } from "./errors";
import { RenderError } from "../nginx";
import { ACCESS_LOG_FORMATS, DEFAULT_ACCESS_LOG_FORMAT } from "../nginx/accessLog";
import { runGenerateInto, type IntoOptions } from "./compose";
import { runGenerate } from "./generate";
import { runServe } from "./serve";
import { runDedupe, runMirror } from "./mirror";
import { runProvenance } from "./provenance";

function program(): Command {
  // dist/src/cli → the package root; read at run time so the version is never stale.
  const pkg = path.join(__dirname, "..", "..", "..", "package.json");
  const { version } = JSON.parse(fs.readFileSync(pkg, "utf8")) as { version: string };
  const cmd = new Command("static-container-registry")
    .description("A read-only OCI/Docker registry from a directory of images, served by plain nginx.")
    .version(version)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();

  cmd
    .command("generate")
    .description(
      "Print nginx config for the images in ROOT: by default the server-context include " +
        "(add --http for the http-context part it needs), or with --standalone a complete nginx.conf; " +
        "with --into DIR, write ROOT's parts (or with --shared the shared ones) for several images roots in one server.",
    )
    .argument("[root]", "images directory (skopeo dir: trees and/or OCI layouts; default: .)")
    .option("--name-prefix <prefix>", "serve every repository as PREFIX/<name>", "")
    .option("--server-root <root>", "images root as nginx sees it: a path, $variable or placeholder")
    .option(
      "--into <dir>",
      "write ROOT's parts into DIR (replacing that root's earlier ones), for several images roots in one server",
    )
    .option(
      "--shared",
      "with --into: write the parts every root shares (http.conf, server.conf, the njs module); no ROOT",
    )
    .option("--root-name <name>", "with --into: the name of ROOT's files in DIR (default: the name prefix)")
    .addOption(new Option("--omit-constants", "print only the per-image data").conflicts("onlyConstants"))
    .addOption(
      new Option("--only-constants", "print only the parts shared by every images root (no ROOT needed)"),
    )
    .option(
      "--data-include <glob>",
      "with --only-constants: where the map takes its entries from (the --omit-constants outputs)",
    )
    .option(
      "--lists-include <glob>",
      "with --only-constants: where the list map takes its entries from (the --omit-constants --lists outputs)",
    )
    .option("--http", "print the http-context part (the maps) instead of the server-context part")
    .option(
      "--lists",
      "with --omit-constants: print the list map's entries (tags and referrers; the catalog of several roots needs --into)",
    )
    .option("--js", "print the njs module the http-context part imports (the list endpoints; no ROOT needed)")
    .option("--js-module <path>", "where the http-context part imports the njs module from")
    .option(
      "--no-map-hash-sizes",
      "leave map_hash_max_size / map_hash_bucket_size to your http {} (--http, --shared): nginx takes them once, before the first map",
    )
    .option("--standalone", "print a complete nginx.conf that runs with a read-only root filesystem")
    .option("--listen <host:port>", "with --standalone: address to listen on", "127.0.0.1:5000")
    .option(
      "--runtime-dir <dir>",
      "with --standalone: the one writable dir (pid, temp files)",
      "/tmp/static-container-registry",
    )
    .option(
      "--config-dir <dir>",
      "with --standalone or --shared: where nginx will read the files from (default: -o DIR, --into DIR)",
    )
    .option(
      "--tls-cert <file>",
      "with --standalone: serve HTTPS (and HTTP/2) with this PEM certificate chain",
    )
    .option("--tls-key <file>", "with --standalone: the certificate's PEM private key")
    .addOption(accessLogOption("with --standalone: "))
    .option("--metrics-listen <host:port>", "with --standalone: serve Prometheus metrics at /metrics here")
    .option(
      "--no-ui",
      "with --standalone or --shared: no catalog page at / (by default / is a page listing the images, read from the API)",
    )
    .option("-o, --output <path>", "write to this file (a directory with --standalone) instead of stdout")
    .action(async (root: string | undefined, opts) => {
      process.exitCode =
        opts.into !== undefined || opts.shared ? await runInto(root, opts) : await runGenerate(root, opts);
    });

  cmd
    .command("check")
    .description("Scan ROOT, print a summary and every problem; exit 1 when there are problems.")
    .argument("[root]", "images directory", ".")
    .option("--verify", "also hash every blob (slow for large trees)")
    .option(
      "--verify-key <file>",
      "also check that every image is signed (cosign) by one of these PEM public keys; repeatable",
      collectOption,
      [],
    )
    .option("--json", "print the summary and problems as JSON")
    .action(async (root: string, opts) => {
      process.exitCode = await runCheck(root, opts);
    });

  cmd
    .command("serve")
    .description("Serve ROOT with a local nginx in the foreground (Ctrl-C stops it, SIGHUP re-scans ROOT).")
    .argument("[root]", "images directory", ".")
    .option("--listen <host:port>", "address to listen on", "127.0.0.1:5000")
    .option("--name-prefix <prefix>", "serve every repository as PREFIX/<name>", "")
    .option("--nginx <path>", "nginx binary (default: nginx on PATH or /usr/sbin/nginx)")
    .option("--user <user [group]>", "when run as root: user for nginx workers (default: owner of ROOT)")
    .option(
      "--tls-cert <file>",
      "serve HTTPS (and HTTP/2) with this PEM certificate chain; plain HTTP is refused",
    )
    .option("--tls-key <file>", "the certificate's PEM private key")
    .addOption(accessLogOption(""))
    .option("--metrics-listen <host:port>", "also serve Prometheus metrics at /metrics on this address")
    .option("--no-ui", "no catalog page at / (by default / is a page listing the images, read from the API)")
    .action(async (root: string, opts) => {
      process.exitCode = await runServe(root, opts);
    });

  cmd
    .command("demo")
    .description(
      "Write a small images dir (no network needed: a multi-arch index in an OCI layout, a runnable image, " +
        "a skopeo dir: tree), serve it like `serve`, and print how to pull from it (Ctrl-C stops it).",
    )
    .option("--listen <host:port>", "address to listen on", "127.0.0.1:5000")
    .option(
      "--dir <dir>",
      "write the images into DIR (new or empty) and keep them (default: a temp dir, removed)",
    )
    .option("--nginx <path>", "nginx binary (default: nginx on PATH or /usr/sbin/nginx)")
    .addOption(accessLogOption(""))
    .option("--metrics-listen <host:port>", "also serve Prometheus metrics at /metrics on this address")
    .action(async (opts) => {
      process.exitCode = await runDemo(opts);
    });

  cmd
    .command("mirror")
    .description(
      "Copy images (every platform, digests kept) from their registries into ROOT/<host>/<path>/<tag>/ with skopeo; " +
        "re-running changes only what changed upstream. With --archive, write one image to an oci-archive file.",
    )
    .argument("[refs...]", "image references (alpine:3.19, quay.io/org/app@sha256:..., host:port/path:tag)")
    .option(
      "--from <file>",
      "read references from FILE, one per line (# comments); repeatable",
      collectOption,
      [],
    )
    .option("--to <root>", "the images dir to fill")
    .option("--prune", "remove mirrored tags (under ROOT/<host>/) that are no longer listed")
    .option("--no-dedupe", "do not hardlink identical blobs afterwards")
    .option("--archive <file>", "write the one REF to FILE as an oci-archive (for ctr images import) instead")
    .option(
      "--registries-conf <file>",
      "skopeo registries.conf to use (default: skopeo's; or $CONTAINERS_REGISTRIES_CONF)",
    )
    .option("--retries <n>", "retries of transient network failures (skopeo --retry-times)", String(3))
    .option(
      "--verify-key <file>",
      "let in only images signed (cosign) by one of these PEM public keys; repeatable",
      collectOption,
      [],
    )
    .option(
      "--no-referrers",
      "copy the images alone, not their signatures, attestations, SBOMs and referrers",
    )
    .action(async (refs: string[], opts) => {
      process.exitCode = await runMirror(refs, opts);
    });

  cmd
    .command("provenance", { hidden: true })
    .description("(internal, run by mirror) carry and verify what refers to one image")
    .requiredOption("--ref <reference>", "the reference as listed (named in a failure)")
    .requiredOption("--source <repository>", "the upstream repository (host/path)")
    .requiredOption("--dest <dir>", "the image's tag directory")
    .requiredOption("--digest <digest>", "the image's digest")
    .requiredOption("--image-dir <dir>", "the directory holding the image's manifest.json")
    .option("--retries <n>", "skopeo --retry-times", String(3))
    .option("--registries-conf <file>", "skopeo registries.conf")
    .option("--require-signature", "refuse the image unless signed by a key of $SCR_VERIFY_KEYS")
    .action(async (opts) => {
      process.exitCode = await runProvenance(opts);
    });

  cmd
    .command("dedupe")
    .description("Hardlink identical blobs under ROOT (checked by hashing) and report the bytes saved.")
    .argument("<root>", "images directory")
    .action(async (root: string) => {
      process.exitCode = await runDedupe(root);
    });
  return cmd;
}

/** `generate --into`: the flags of the other forms are refused, not ignored. */
async function runInto(root: string | undefined, opts: Record<string, unknown>): Promise<number> {
  if (opts.into === undefined) throw new UsageError("--shared goes with --into DIR");
  const other = (
    [
      ["http", "--http"],
      ["lists", "--lists"],
      ["js", "--js"],
      ["jsModule", "--js-module"],
      ["omitConstants", "--omit-constants"],
      ["onlyConstants", "--only-constants"],
      ["dataInclude", "--data-include"],
      ["listsInclude", "--lists-include"],
      ["standalone", "--standalone"],
      ["output", "--output"],
      ["tlsCert", "--tls-cert"],
      ["tlsKey", "--tls-key"],
      ["metricsListen", "--metrics-listen"],
    ] as const
  ).filter(([k]) => opts[k] !== undefined);
  if (other.length) {
    throw new UsageError(
      `--into writes every part of the composition itself: ${other.map(([, f]) => f).join(", ")} ` +
        `belong to the single-file forms`,
    );
  }
  return runGenerateInto(root, opts as unknown as IntoOptions);
}

/** `--access-log json|combined|off`, one definition for serve and generate. */
function accessLogOption(prefix: string): Option {
  return new Option(
    "--access-log <format>",
    `${prefix}the request log on stdout: one JSON object per request, nginx's combined line, or none`,
  )
    .choices(ACCESS_LOG_FORMATS)
    .default(DEFAULT_ACCESS_LOG_FORMAT);
}

function collectOption(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Runs the CLI; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  process.exitCode = 0;
  try {
    await program().parseAsync(argv, { from: "user" });
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode; // commander already printed help/errors
    if (e instanceof UsageError || e instanceof RenderError) {
      process.stderr.write(`static-container-registry: ${e.message}\n`);
      return e instanceof UsageError ? e.code : 2;
    }
    throw e;
  }
}
