/**
 * Records every input of one configuration load (config-inputs.ts), in the config thread only
 * (cli/config-thread-main.ts): node:fs and process.env are wrapped in that thread's own realm, so a
 * check added later that reads a file or a variable is recorded without having to remember to say so.
 * A start cache whose key missed one input would start a daemon on a configuration its files no longer
 * give; completeness is why this wraps the modules instead of asking each check to report its reads.
 *
 * Anything that is not a read (a write, a watch, a function this does not know) taints the record:
 * the load then happened as always, but its result is not cached (`taint`).
 *
 * The thread ends after one load, so the wrapping is never undone. The daemon's main thread and the
 * pipeline workers have realms of their own and are not touched.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { observe, type ConfigInput, type InputOp } from './config-inputs.js';

export interface InputRecord {
  /** Every input, first observation of each. */
  inputs(): ConfigInput[];
  /** Why the record cannot key a cache (the first call that was not a recordable read), if any. */
  taint(): string | undefined;
  /** The environment as it was before the wrapping, for checks that must not be recorded. */
  readonly rawEnv: NodeJS.ProcessEnv;
}

/** Path-taking reads, by the name node:fs gives them (sync, callback and promise forms). */
const PATH_READS: Record<string, InputOp> = {
  readFile: 'read',
  createReadStream: 'read',
  open: 'read',
  stat: 'stat',
  exists: 'stat',
  lstat: 'lstat',
  access: 'access',
  readdir: 'readdir',
  opendir: 'readdir',
  realpath: 'realpath',
};

/** Reads of a descriptor or handle already opened (its file was recorded at open), and pure helpers. */
const PASS_THROUGH = new Set(['close', 'fstat', 'read', 'readv', 'fdatasync', 'fsync', 'unwatchFile', 'Stats', 'Dirent', 'Dir', 'ReadStream', 'WriteStream', 'FileReadStream', 'FileWriteStream', '_toUnixTimestamp', 'openAsBlob']);

function baseName(name: string): string {
  return name.replace(/Sync$/, '');
}

function pathOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return resolve(arg);
  if (arg instanceof URL) return arg.protocol === 'file:' ? fileURLToPath(arg) : undefined;
  if (Buffer.isBuffer(arg)) return resolve(arg.toString());
  return undefined;
}

/** Wraps node:fs (all three forms) and process.env in this thread; returns what they were asked. */
export function recordInputs(): InputRecord {
  const inputs = new Map<string, ConfigInput>();
  // The real environment: observing a variable through the wrapper below would record itself.
  const env = process.env;
  let tainted: string | undefined;
  /** Calls into node:fs under way on this stack (the wrappers' own, and observing). */
  let depth = 0;
  const note = (op: InputOp, target: string, mode?: number): void => {
    const key = `${op}\0${target}\0${mode ?? ''}`;
    if (inputs.has(key)) return;
    // Observed before the call it stands for: a file that changes between the two is seen changed at the next start.
    depth++;
    try {
      inputs.set(key, { op, target, ...(mode === undefined ? {} : { mode }), outcome: observe(op, target, mode, env) });
    } finally {
      depth--;
    }
  };
  const taint = (what: string): void => {
    tainted ??= what;
  };

  const wrap = (owner: Record<string, unknown>, name: string, form: string): void => {
    const original = owner[name];
    if (typeof original !== 'function' || !/^[a-z]/.test(name) || PASS_THROUGH.has(baseName(name))) return;
    const op = PATH_READS[baseName(name)];
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      // node:fs calls its own exports (readFileSync calls fs.openSync): only the outermost call is the
      // load's, and observing (which reads too) must not record itself.
      if (depth > 0) return (original as (...a: unknown[]) => unknown).apply(this, args);
      const path = pathOf(args[0]);
      const flags = baseName(name) === 'open' ? args[1] : undefined;
      if (op === undefined) taint(`${form}${name}`);
      else if (path === undefined) taint(`${form}${name} of a descriptor or handle`);
      else if (flags !== undefined && flags !== 'r' && flags !== fs.constants.O_RDONLY) taint(`${form}${name} for writing`);
      else note(op, path, op === 'access' ? ((typeof args[1] === 'number' ? args[1] : fs.constants.F_OK) as number) : undefined);
      depth++;
      try {
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      } finally {
        depth--;
      }
    };
    Object.assign(wrapped, original); // realpathSync.native and the like
    owner[name] = wrapped;
  };
  const sync = fs as unknown as Record<string, unknown>;
  for (const name of Object.keys(sync)) if (name !== 'promises' && name !== 'constants') wrap(sync, name, 'fs.');
  const promises = fs.promises as unknown as Record<string, unknown>;
  for (const name of Object.keys(promises)) if (name !== 'constants') wrap(promises, name, 'fs.promises.');
  syncBuiltinESMExports();

  process.env = new Proxy(env, {
    get(target, name) {
      if (typeof name === 'string') note('env', name);
      return Reflect.get(target, name);
    },
    has(target, name) {
      if (typeof name === 'string') note('env', name);
      return Reflect.has(target, name);
    },
    ownKeys(target) {
      note('env*', '');
      return Reflect.ownKeys(target);
    },
    set(target, name, value) {
      taint(`process.env.${String(name)} written`);
      return Reflect.set(target, name, value);
    },
    deleteProperty(target, name) {
      taint(`process.env.${String(name)} deleted`);
      return Reflect.deleteProperty(target, name);
    },
  });

  return { inputs: () => [...inputs.values()], taint: () => tainted, rawEnv: env };
}
