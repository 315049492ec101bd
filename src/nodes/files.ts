/**
 * Files that a step places on a node's disk, and the shell text that places
 * them. Every transport (an SSH command, the wiring DaemonSet, a static pod
 * placed over SSH) writes the same list with the same text, so one test of
 * the text covers them all.
 */
import { shAtomicWrite } from "../shell";

/** A file to place on a node: absolute path, text content, octal mode (e.g. "0644"). */
export interface NodeFile {
  path: string;
  content: string;
  mode: string;
}

const SAFE_NODE_PATH = /^\/[A-Za-z0-9._+@:/-]*$/;
const MODE = /^0?[0-7]{3}$/;

/** What is wrong with `f`, or undefined (absolute, no `..`, plain characters, octal mode). */
export function nodeFileProblem(f: NodeFile): string | undefined {
  if (!SAFE_NODE_PATH.test(f.path) || f.path.split("/").includes(".."))
    return `node file path "${f.path}" must be absolute, without "..", of letters, digits and ._+@:/-`;
  if (!MODE.test(f.mode)) return `node file ${f.path}: mode "${f.mode}" is not an octal mode such as 0644`;
  return undefined;
}

/**
 * Shell text that writes `files` in the given order, each atomically (a temp
 * file beside it, then a rename): a reader sees the old file or the new one.
 * Write order matters to readers that watch a directory (the kubelet's
 * manifests dir): put the file that refers to the others last.
 */
export function shWriteFiles(files: readonly NodeFile[]): string {
  for (const f of files) {
    const problem = nodeFileProblem(f);
    if (problem) throw new Error(problem);
  }
  return files.map((f) => shAtomicWrite(f.path, f.content, f.mode)).join("\n");
}
