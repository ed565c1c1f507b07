// Log lines carried a context key twice (a child's binding plus the call's object, or a child of a
// child), which strict JSON parsers reject (issue 6). The logger keeps each key once; a call that
// disagrees with its binding keeps its value under `shadowed` rather than losing it. The daemon-level
// check is test/integration/log-keys.test.ts; this pins the rules on the logger's own output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, logAt, withBindings } from '../../src/host/logger.js';

/** Runs `body` with the process's stdout captured (createLogger writes JSON lines there). */
function captured(body: () => void): string[] {
  const lines: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    return true;
  }) as typeof process.stdout.write;
  try {
    body();
  } finally {
    process.stdout.write = write;
  }
  return lines;
}

const keysOf = (line: string): string[] => [...line.matchAll(/"([a-zA-Z]+)":/g)].map((m) => m[1]!);

test('a key the logger binds appears once, whether the call repeats it or a child binds it again', () => {
  const lines = captured(() => {
    const root = createLogger('info', 'json', { gateway: 'gw1' });
    const pipeline = root.child({ pipeline: 'p1' });
    logAt(pipeline, 40, 'from the worker', { event: 'plugin.log', pipeline: 'p1', step: 2 });
    root.info({ event: 'gateway.started', gateway: 'gw1', pipelines: 1 }, 'gateway started');
    withBindings(withBindings(root, { uplink: 'cloud' }), { uplink: 'cloud' }).warn({ event: 'uplink.lost' }, 'connection lost');
  });
  assert.equal(lines.length, 3);
  for (const line of lines) {
    const keys = keysOf(line);
    assert.deepEqual(keys.filter((k, i) => keys.indexOf(k) !== i), [], `a key repeats in ${line}`);
  }
  assert.equal(JSON.parse(lines[0]!).step, 2, 'the other keys of the call stay');
  assert.equal(JSON.parse(lines[2]!).uplink, 'cloud');
});

test('a call that disagrees with a binding keeps its value under shadowed', () => {
  const [line] = captured(() => createLogger('info', 'json').child({ pipeline: 'p1' }).info({ event: 'pipeline.message', pipeline: 'p2' }, 'odd'));
  const parsed = JSON.parse(line!) as { pipeline: string; shadowed: { pipeline: string } };
  assert.equal(parsed.pipeline, 'p1');
  assert.deepEqual(parsed.shadowed, { pipeline: 'p2' });
});
