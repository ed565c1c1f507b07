#!/usr/bin/env node
// The compiled CLI lives in dist/; this shim keeps the package `bin` stable.
import { main } from '../dist/src/host/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err); process.exitCode = 1; },
);
