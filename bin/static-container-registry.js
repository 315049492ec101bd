#!/usr/bin/env node
"use strict";
// Thin launcher: the CLI is compiled to dist/ by `npm ci` (the `prepare` script).
const path = require("node:path");
const main = path.join(__dirname, "..", "dist", "src", "cli", "main.js");
let cli;
try {
  cli = require(main);
} catch (err) {
  if (err && err.code === "MODULE_NOT_FOUND" && String(err.message).includes(main)) {
    process.stderr.write(
      `static-container-registry: ${main} is missing: the CLI is not built yet. ` +
        `Run \`npm run build\` (or \`npm ci\`, which builds it) in ${path.join(__dirname, "..")}\n`,
    );
    process.exit(2);
  }
  throw err;
}
cli.main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`static-container-registry: ${err && err.message ? err.message : err}\n`);
    process.exitCode = 2;
  },
);
