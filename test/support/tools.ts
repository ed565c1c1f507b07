/**
 * Gate for tests that need an external tool (mosquitto, pymodbus, socat, mbpoll...). Outside CI a
 * missing tool registers the test as skipped with the reason; under CI (env CI=true) a missing tool
 * fails the test, so an interop test can never silently count as a pass.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const cache = new Map<string, string | undefined>();

/** Absolute path of `name` on the PATH (or at one of `extra` paths), else undefined. */
export function findTool(name: string, extra: string[] = []): string | undefined {
  const key = `${name}|${extra.join(',')}`;
  if (cache.has(key)) return cache.get(key);
  let found: string | undefined = extra.find((p) => existsSync(p));
  if (!found) {
    try {
      found = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      found = undefined;
    }
  }
  cache.set(key, found);
  return found;
}

/** Debian's own python3 with pymodbus importable, if there is one. */
export function findPymodbusPython(): string | undefined {
  const key = 'pymodbus-python';
  if (cache.has(key)) return cache.get(key);
  let found: string | undefined;
  for (const py of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(py, ['-c', 'import pymodbus'], { stdio: 'ignore' });
      found = py;
      break;
    } catch {
      /* try the next one */
    }
  }
  cache.set(key, found);
  return found;
}

export const underCI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Options for node:test's `test(name, opts, fn)`: `{ skip: 'mosquitto not installed' }` when the
 * tool is missing outside CI; under CI a missing tool throws so the run fails loudly.
 */
export function needs(tool: string, present: boolean): { skip?: string } {
  if (present) return {};
  const reason = `${tool} not installed`;
  if (underCI) throw new Error(`${reason}: interop tests are mandatory under CI (.ci/run installs it)`);
  return { skip: reason };
}
