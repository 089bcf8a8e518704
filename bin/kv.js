#!/usr/bin/env node
// Entry point of the `kv` command. Runs the compiled code in dist/ (built by `npm install`,
// `npm ci` and `npm run build`); dist/cli/start.js picks the client bundle or dist/cli/main.js.
"use strict";
const path = require("node:path");
const fs = require("node:fs");
const start = path.join(__dirname, "..", "dist", "cli", "start.js");
if (!fs.existsSync(start)) {
  console.error("kv: dist/ is missing; run `npm run build` first");
  process.exit(5);
}
require(start)
  .start(process.argv.slice(2))
  .then((code) => process.exit(code));
