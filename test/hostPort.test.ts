/**
 * host:port parsing and formatting: the forms listen addresses, upstream hosts
 * and node endpoints take, and the ones refused.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatHostPort, parseHostPort } from "../src/hostPort";

const CASES = [
  {
    description: "host and port",
    text: "registry.local:5000",
    need: {},
    want: { host: "registry.local", port: 5000 },
  },
  {
    description: "IPv4 and port",
    text: "127.0.0.1:30500",
    need: {},
    want: { host: "127.0.0.1", port: 30500 },
  },
  { description: "bracketed IPv6", text: "[::1]:5000", need: {}, want: { host: "[::1]", port: 5000 } },
  { description: "host only", text: "docker.io", need: { host: true }, want: { host: "docker.io" } },
  { description: "port only", text: "5000", need: { port: true }, want: { port: 5000 } },
  { description: "port required, missing", text: "docker.io", need: { port: true }, want: undefined },
  { description: "host required, missing", text: "5000", need: { host: true }, want: undefined },
  { description: "port 0", text: "h:0", need: {}, want: undefined },
  { description: "port above 65535", text: "h:65536", need: {}, want: undefined },
  { description: "bare IPv6", text: "::1:5000", need: {}, want: undefined },
  { description: "scheme", text: "http://h:5000", need: {}, want: undefined },
  { description: "path", text: "h:5000/v2", need: {}, want: undefined },
  { description: "empty", text: "", need: {}, want: undefined },
  { description: "label starting with '-'", text: "-h:5000", need: {}, want: undefined },
];

for (const c of CASES) {
  test(`parseHostPort: ${c.description}`, () => {
    assert.deepEqual(parseHostPort(c.text, c.need), c.want);
  });
}

test("formatHostPort brackets bare IPv6 addresses only", () => {
  assert.equal(formatHostPort("10.43.0.10", 5000), "10.43.0.10:5000");
  assert.equal(formatHostPort("fd00::10", 5000), "[fd00::10]:5000");
  assert.equal(formatHostPort("[fd00::10]", 5000), "[fd00::10]:5000");
  assert.equal(formatHostPort("lb.example.com", 80), "lb.example.com:80");
});
