#!/usr/bin/env node
// The compiled CLI lives in dist/ (bundled or not: host-entry.js); this shim keeps the package `bin` stable.
//
// Node opens its inspector (a debugger port on 127.0.0.1:9229) when it receives SIGUSR1 and nothing
// listens for it. A production daemon must not do that, so a listener is installed before anything
// else is loaded; `wasmgate run` logs the signal.
process.on('SIGUSR1', () => {});

// The daemon runs with its memory flags (daemon-runtime.js): the unit gives them; started by hand,
// `run` starts itself again with them. Nothing else is loaded before, so the wrapper stays small.
const argv = process.argv.slice(2);
if (argv[0] === 'run') {
  const runtime = await import('./daemon-runtime.js');
  const relaunched = runtime.relaunchWithRuntime(argv);
  if (relaunched) process.exit(await relaunched);
  runtime.watchParent();
}

const { hostEntry } = await import('./host-entry.js');
const entry = hostEntry();
if (entry.error) {
  console.error(`wasmgate: ${entry.error}`);
  process.exit(1);
}
const { main } = await import(entry.url);
main(argv).then(
  // Exit as soon as the command is done: a timer some component forgot to clear must not keep a
  // stopped gateway alive past systemd's stop timeout. Output is written synchronously on Linux.
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
