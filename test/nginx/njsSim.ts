/**
 * The njs module (src/nginx/njs.ts) run by Node on a model of what nginx gives
 * it: a request object whose `variables.scr_lv` is looked up, on every read,
 * in the list map built from rendered `key value;` lines (keys matched
 * case-insensitively, as nginx's exact map keys are). The module is ES5 plus
 * `export default`, so Node runs the very text nginx loads.
 */
import { NJS_MODULE } from "../../src/nginx/njs";

export interface NjsAnswer {
  status: number;
  body?: string;
  headers: Record<string, string>;
  /** What the handler put into $scr_err (the key of a JSON error). */
  err?: string;
}

type Handler = (r: unknown) => void;

const handlers = new Function(NJS_MODULE.replace(/^export default /m, "return ")) as () => Record<
  string,
  Handler
>;

/** Parses one nginx token: bare, or '…' / "…" with backslash escapes. */
function untoken(t: string): string {
  if (t.startsWith("'") || t.startsWith('"')) return t.slice(1, -1).replace(/\\(.)/g, "$1");
  return t;
}

/** The list map of rendered `key value;` lines. */
export function listMap(lines: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const l of lines) {
    const m = /^('(?:[^'\\]|\\.)*'|\S+) ('(?:[^'\\]|\\.)*'|\S+);$/.exec(l);
    if (!m) throw new Error(`not a map line: ${l}`);
    map.set(untoken(m[1]).toLowerCase(), untoken(m[2]));
  }
  return map;
}

/** Runs handler `name` ("tags", "catalog", "referrers") for a request. */
export function runNjs(
  name: string,
  map: Map<string, string>,
  vars: Record<string, string>,
  args: Record<string, string>,
): NjsAnswer {
  let lk = "";
  const answer: NjsAnswer = { status: 0, headers: {} };
  const variables = {
    ...vars,
    get scr_lk() {
      return lk;
    },
    set scr_lk(v: string) {
      lk = v;
    },
    get scr_lv() {
      return map.get(lk.toLowerCase()) ?? "";
    },
    set scr_err(v: string) {
      answer.err = v;
    },
  };
  const r = {
    variables,
    args,
    headersOut: answer.headers,
    return(status: number, body?: string) {
      answer.status = status;
      answer.body = body;
    },
  };
  handlers()[name](r);
  return answer;
}
