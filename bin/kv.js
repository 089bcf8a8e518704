#!/usr/bin/env node
// Entry point of the `kv` command. Runs the compiled code in dist/ (built by `npm install`,
// `npm ci` and `npm run build`).
"use strict";
const path = require("node:path");
const fs = require("node:fs");
const cli = path.join(__dirname, "..", "dist", "cli", "main.js");
if (!fs.existsSync(cli)) {
  console.error("kv: dist/ is missing; run `npm run build` first");
  process.exit(5);
}
require(cli)
  .main(process.argv.slice(2))
  .then((code) => process.exit(code));
