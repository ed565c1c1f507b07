#!/usr/bin/env node
// The compiled CLI lives in dist/; this shim keeps the package `bin` stable.
//
// Node opens its inspector (a debugger port on 127.0.0.1:9229) when it receives SIGUSR1 and nothing
// listens for it. A production daemon must not do that, so a listener is installed before anything
// else is loaded; `wasmgate run` logs the signal.
process.on('SIGUSR1', () => {});

const { main } = await import('../dist/src/host/cli/main.js');
main(process.argv.slice(2)).then(
  // Exit as soon as the command is done: a timer some component forgot to clear must not keep a
  // stopped gateway alive past systemd's stop timeout. Output is written synchronously on Linux.
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
