#!/usr/bin/env node
"use strict";
// Thin launcher: the CLI is compiled to dist/ by `npm ci` (the `prepare` script).
require("../dist/src/cli/main.js")
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`static-container-registry: ${err && err.message ? err.message : err}\n`);
      process.exitCode = 2;
    },
  );
