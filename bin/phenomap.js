#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the prepare script).
import('../dist/cli/main.js').then((m) => m.main(process.argv)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`phenomap: internal error: ${err && err.message ? err.message : err}`); process.exitCode = 1; },
);
