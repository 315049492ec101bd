/**
 * How a list of problems reads in an error message: one indented line each,
 * so that every mistake is reported at once and each can be found by its file
 * or argument name. The CLI, the component's argument check and its images
 * check all print lists this way.
 */
import type { Problem } from "./inventory/model";

/** `file: message`, the form in which a tree problem names its file. */
export function problemText(p: Problem): string {
  return `${p.file}: ${p.message}`;
}

/** One line per problem, indented; `bullet` precedes each (the CLI prints none). */
export function problemList(problems: readonly string[], bullet = "- "): string {
  return problems.map((p) => `  ${bullet}${p}`).join("\n");
}
