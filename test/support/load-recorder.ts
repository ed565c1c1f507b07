/**
 * A preload for node (`--import <file>`, which Node runs in every worker thread too) that writes to
 * stderr one line `LOADED <thread> <file url>` per file the thread loads: ES modules through a resolve
 * hook, CommonJS files through the require resolver. For tests that check which build of the host a
 * process runs (dist/bundle or dist/src) without changing it.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const RECORDER = `import { register, Module } from 'node:module';
import { isMainThread, threadId } from 'node:worker_threads';
const tag = isMainThread ? 'main' : 'worker' + threadId;
const hook = 'export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.startsWith("file:")) process._rawDebug("LOADED ' + tag + ' " + r.url); return r; }';
register('data:text/javascript,' + encodeURIComponent(hook));
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (...args) {
  const file = resolveFilename.apply(this, args);
  if (file.startsWith('/')) process._rawDebug('LOADED ' + tag + ' file://' + file);
  return file;
};
`;

/** Writes the preload into `dir`; returns the node arguments that load it. */
export async function loadRecorderArgs(dir: string): Promise<string[]> {
  const file = join(dir, 'record-loads.mjs');
  await writeFile(file, RECORDER);
  return ['--import', pathToFileURL(file).href];
}

/** The recorded loads of files under `root` (a package folder), outside its node_modules, as paths relative to it. */
export function loadsUnder(root: string, stderr: string): Array<{ thread: string; file: string }> {
  const prefix = pathToFileURL(root).href + '/';
  return stderr.split('\n').flatMap((l) => {
    const m = /^LOADED (\S+) (\S+)$/.exec(l);
    const file = m && m[2]!.startsWith(prefix) ? m[2]!.slice(prefix.length) : undefined;
    return file !== undefined && !file.startsWith('node_modules/') ? [{ thread: m![1]!, file }] : [];
  });
}
