/**
 * The image list format (`mirror --from FILE`, the component's `imagesFile`):
 * one reference per line; `#` starts a comment; blank lines are ignored.
 * Every bad line is reported at once, each naming its file and line.
 */
import { parseReference, ReferenceError, type ImageReference } from "./reference";

export interface ParsedList {
  references: ImageReference[];
  /** `FILE:LINE: "ref": reason`, one per bad line. */
  problems: string[];
}

/** Parses the text of an image list; `source` names it in problems. */
export function parseImageList(text: string, source: string): ParsedList {
  const references: ImageReference[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    try {
      references.push(parseReference(line));
    } catch (e) {
      if (!(e instanceof ReferenceError)) throw e;
      problems.push(`${source}:${i + 1}: ${e.message}`);
    }
  });
  return { references, problems };
}

/** Parses references given one by one (command line, component args); problems name each. */
export function parseReferences(refs: readonly string[]): ParsedList {
  const references: ImageReference[] = [];
  const problems: string[] = [];
  for (const r of refs) {
    try {
      references.push(parseReference(r));
    } catch (e) {
      if (!(e instanceof ReferenceError)) throw e;
      problems.push(e.message);
    }
  }
  return { references, problems };
}
