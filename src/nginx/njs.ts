/**
 * The njs module (nginx's ngx_http_js_module) that answers the list endpoints:
 * `tags/list`, `_catalog` and `referrers`. Everything else — manifests, blobs,
 * errors — stays plain nginx; these three need what nginx cannot do, slice a
 * list at an arbitrary `last` and `n`, and filter referrers by artifactType.
 *
 * The data comes only from the rendered config: the list map (`$scr_lk` →
 * `$scr_lv`, see listData.ts), which this config never reads itself, so nginx
 * does not cache its value within a request and every read below is a fresh
 * lookup of one chunk. A list of 10,000 tags is ~25 chunks; a page's start is
 * found by binary search over their first entries, and a page is cut from the
 * chunks' text with indexOf, without parsing them (bench/RESULTS.md, the list
 * endpoints).
 *
 * The rule implemented is lists.ts's (the tests run this very text against it).
 * The text is ES5 plus `export default`: Debian's njs is 0.7 (no for…of).
 */
import { OCI_INDEX } from "./referrers";

/** The module's file name, next to nginx.conf (standalone) or wherever `jsModule` says. */
export const JS_FILE = "static-container-registry.js";

/** The name the config imports the module as (`js_import scr from …`, `js_content scr.tags`). */
export const JS_IMPORT = "scr";

export const NJS_MODULE = `// static-container-registry: the list endpoints (tags/list, _catalog, referrers). Generated; do not edit.
// Data: the list map of the rendered config ($scr_lk -> $scr_lv), one chunk per key.

function lookup(r, key) {
    r.variables.scr_lk = key;
    return r.variables.scr_lv;
}

// A list stored as <key> -> number of chunks, <key>|<i> -> entries as JSON
// strings joined by "," ("a","b"): entries (names, tags) hold no quote,
// backslash or comma, so nothing needs escaping.
// The head may also hold each chunk's first entry: <count>|"a","m".
function List(r, key) {
    var head = lookup(r, key), bar = head.indexOf("|");
    this.r = r;
    this.key = key;
    this.count = Number((bar < 0 ? head : head.slice(0, bar)) || "0");
    this.firsts = bar < 0 ? null : head.slice(bar + 2, -1).split('","');
    this.raw = {};
}
List.prototype.get = function (i) {
    if (!(i in this.raw)) {
        var v = lookup(this.r, this.key + "|" + i);
        if (v === "") throw new Error("list chunk missing: " + this.key + "|" + i);
        this.raw[i] = v;
    }
    return this.raw[i];
};
List.prototype.first = function (i) {
    if (this.firsts !== null) return this.firsts[i];
    var v = this.get(i);
    return v.slice(1, v.indexOf('"', 1));
};

function items(entries) {
    return '"' + entries.join('","') + '"';
}

// What follows the entries <= last in chunk text v ("" when none does). An
// entry is found by indexOf: clients pass an entry they were given, and a
// 4 KB chunk is then never split up. (Between two quotes of v is an entry or
// a ",": for a last without either, a match of "last" is that entry.)
function after(v, last) {
    var at = last.indexOf('"') < 0 && last.indexOf(",") < 0 ? v.indexOf('"' + last + '"') : -1;
    if (at >= 0) return v.slice(at + last.length + 3);
    var e = v.slice(1, -1).split('","'), lo = 0, hi = e.length, mid;
    while (lo < hi) {
        mid = (lo + hi) >> 1;
        if (e[mid] > last) hi = mid;
        else lo = mid + 1;
    }
    return lo < e.length ? items(e.slice(lo)) : "";
}

// The first k entries of chunk text v (k > 0): their text, how many, the
// last of them, and the text of the rest ("" when none is left).
function take(v, k) {
    var end = -1, count = 0, b;
    while (count < k) {
        b = v.indexOf('","', end + 1);
        count++;
        if (b < 0) {
            end = v.length;
            break;
        }
        end = b + 1;
    }
    var text = v.slice(0, end);
    return { text: text, count: count, last: text.slice(text.lastIndexOf('"', text.length - 2) + 1, -1), rest: v.slice(end + 1) };
}

// Entries strictly after last (whether or not it is one), at most n (all when
// n is undefined), as JSON array items; next: the last of them when entries
// remain after them. Chunks are copied as text, never parsed into entries
// (but for a last that is not an entry).
function page(list, n, last) {
    var c = 0, v = null, lo, hi, mid;
    if (last !== undefined && list.count > 0) {
        // The start is in the last chunk whose first entry is <= last (if any).
        lo = 0;
        hi = list.count;
        while (lo < hi) {
            mid = (lo + hi) >> 1;
            if (list.first(mid) > last) hi = mid;
            else lo = mid + 1;
        }
        if (lo > 0) {
            c = lo - 1;
            v = after(list.get(c), last);
            if (v === "") {
                c++;
                v = null;
            }
        }
    }
    // v: what is left of chunk c when it was cut, null when chunk c is whole.
    var parts = [], taken = 0, next, t;
    while (c < list.count && (n === undefined || taken < n)) {
        if (v === null) v = list.get(c);
        if (n === undefined) {
            parts.push(v);
            c++;
            v = null;
            continue;
        }
        t = take(v, n - taken);
        parts.push(t.text);
        taken += t.count;
        next = t.last;
        if (t.rest !== "") break;
        c++;
        v = null;
    }
    return { json: parts.join(","), next: c < list.count ? next : undefined };
}

function arg(r, name) {
    var v = r.args[name];
    if (Array.isArray(v)) v = v[0];
    return v;
}

function fail(r, status, key) {
    r.variables.scr_err = key;
    r.return(status);
}

// n: undefined (absent or empty), null (malformed), or a number.
function pageSize(r) {
    var n = arg(r, "n");
    if (n === undefined || n === "") return undefined;
    return /^[0-9]+$/.test(n) ? Number(n) : null;
}

function listAnswer(r, key, path, head) {
    var n = pageSize(r);
    if (n === null) return fail(r, 400, "PAGINATION_NUMBER_INVALID");
    var p = page(new List(r, key), n, arg(r, "last"));
    if (p.next !== undefined) {
        r.headersOut["Link"] = "<" + path + "?n=" + n + "&last=" + encodeURIComponent(p.next) + '>; rel="next"';
    }
    r.return(200, head + p.json + "]}");
}

// The repository name comes from the location's regex (the name grammar): JSON-safe.
function tags(r) {
    var name = r.variables.scr_name;
    listAnswer(r, name + "|t", "/v2/" + name + "/tags/list", '{"name":"' + name + '","tags":[');
}

function catalog(r) {
    listAnswer(r, "|c", "/v2/_catalog", '{"repositories":[');
}

// Referrers: chunks of descriptors (JSON, joined by ","), all in one answer.
function referrers(r) {
    var key = r.variables.scr_name + "|r|" + r.variables.scr_hex;
    var count = Number(lookup(r, key) || "0");
    var parts = [];
    for (var i = 0; i < count; i++) parts.push(lookup(r, key + "|" + i));
    var json = parts.join(",");
    var type = arg(r, "artifactType");
    if (type !== undefined && type !== "") {
        var all = JSON.parse("[" + json + "]");
        var kept = [];
        for (var j = 0; j < all.length; j++) if (all[j].artifactType === type) kept.push(all[j]);
        json = kept.length ? JSON.stringify(kept).slice(1, -1) : "";
        r.headersOut["OCI-Filters-Applied"] = "artifactType";
    }
    r.return(200, '{"schemaVersion":2,"mediaType":"${OCI_INDEX}","manifests":[' + json + "]}");
}

export default { tags: tags, catalog: catalog, referrers: referrers };
`;
