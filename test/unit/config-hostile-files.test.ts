/**
 * Hostile config files. What broke: an alias bomb (nested `*a` aliases) or thousands of aliases made
 * yaml throw a bare ReferenceError out of `validate` and `run` (a stack trace, no position), and a
 * 50 MB file aborted the process with a V8 heap OOM under the unit's --max-old-space-size=96. Now each
 * is a positioned WG_ERR_CONFIG_TOO_LARGE problem, found before the file becomes data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { ConfigWorkspace, REPO_ROOT, gatewayLines, pipelineLines } from './config-workspace.js';

/** Nine levels, each a list of nine aliases of the level above: 9^9 (387 million) strings once expanded. */
function aliasBomb(): string[] {
  const levels = ['    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const name = String.fromCharCode(97 + i);
    const above = String.fromCharCode(96 + i);
    levels.push(`    ${name}: &${name} [${Array(9).fill(`*${above}`).join(',')}]`);
  }
  return levels;
}

async function problemsOf(ws: ConfigWorkspace): Promise<{ line: number; column: number; code: string; file: string }[]> {
  const result = await loadGatewayConfig(ws.path('gw.yaml'));
  assert.equal(result.ok, false);
  return result.ok ? [] : result.problems.map((p) => ({ file: p.file, line: p.line, column: p.column, code: p.code }));
}

test('an alias bomb in a pipeline file is refused at the alias that crosses the limit, not thrown', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    // The bomb sits under pipeline.x (an unknown key, but it must never get as far as the schema).
    const pipeline = pipelineLines();
    pipeline.splice(2, 0, '  x:', ...aliasBomb()); // lines 3..12
    await ws.write('p.yaml', pipeline);
    await ws.write('gw.yaml', gatewayLines());
    const problems = await problemsOf(ws);
    assert.equal(problems.length, 1);
    const [problem] = problems;
    assert.equal(problem!.code, 'WG_ERR_CONFIG_TOO_LARGE');
    assert.equal(problem!.file, ws.path('p.yaml'));
    // A list of n values counts n + 1 (the list itself): a = 10, b = 91, c = 820, d = 7381, e = 66430.
    // The aliases of lines 5-8 (levels b-e) add 9 x (10 + 91 + 820 + 7381) = 74718; the first alias
    // of level f (line 9, column 12) adds 66430 and passes 100 000.
    assert.deepEqual({ line: problem!.line, column: problem!.column }, { line: 9, column: 12 });
  } finally {
    await ws.remove();
  }
});

test('thousands of aliases of one block are refused with a position instead of a ReferenceError', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const block = '  base: &base { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9 }'; // 19 values
    const uses = Array.from({ length: 6000 }, (_, i) => `  m${i}: *base`);
    await ws.write('gw.yaml', ['x:', block, ...uses]);
    const problems = await problemsOf(ws);
    assert.equal(problems.length, 1);
    // 1000 aliases are allowed (they add 19 000 values, below the expansion limit); the 1001st, m1000
    // on line 1003, is refused.
    assert.deepEqual(problems[0], { file: ws.path('gw.yaml'), line: 1003, column: 10, code: 'WG_ERR_CONFIG_TOO_LARGE' });
  } finally {
    await ws.remove();
  }
});

test('a map of 60 000 keys is checked for duplicate keys in linear time, and the duplicate is positioned', async () => {
  // yaml's uniqueKeys compared every key with every other: this file kept validate busy for minutes.
  const ws = await ConfigWorkspace.create();
  try {
    const keys = Array.from({ length: 60_000 }, (_, i) => `  k${i}: 1`);
    keys.push('  k7: 2'); // line 60 002
    await ws.write('gw.yaml', ['x:', ...keys]);
    const problems = await problemsOf(ws);
    assert.deepEqual(problems, [{ file: ws.path('gw.yaml'), line: 60_002, column: 3, code: 'WG_ERR_CONFIG_SYNTAX' }]);
  } finally {
    await ws.remove();
  }
});

test('an alias inside the node it refers to is refused, not expanded forever', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('gw.yaml', ['gateway: &g', '  id: gw1', '  again: *g']);
    const problems = await problemsOf(ws);
    assert.deepEqual(problems, [{ file: ws.path('gw.yaml'), line: 3, column: 10, code: 'WG_ERR_CONFIG_TOO_LARGE' }]);
  } finally {
    await ws.remove();
  }
});

test('a few aliases, as an operator writes them for repeated devices, still load', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const pipeline = pipelineLines();
    pipeline[8] = '          - &temp { name: boiler.temp, function: 3, address: 0, type: int16 }';
    await ws.write('p.yaml', pipeline);
    await ws.write('gw.yaml', gatewayLines());
    const result = await loadGatewayConfig(ws.path('gw.yaml'));
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  } finally {
    await ws.remove();
  }
});

test('a 50 MB gateway file is refused at line 1 by validate under the unit heap limit, without reading it', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const file = ws.path('gw.yaml');
    const handle = await open(file, 'w');
    const chunk = Buffer.from(('# '.padEnd(1023, 'x') + '\n').repeat(1024)); // 1 MiB of comment lines
    for (let i = 0; i < 50; i++) await handle.write(chunk);
    await handle.close();
    // The same heap limit as systemd/wasmgate.service: the old loader died here with a V8 heap OOM.
    const child = spawnSync(process.execPath, ['--max-old-space-size=96', join(REPO_ROOT, 'bin/wasmgate.js'), 'validate', '--config', file], { encoding: 'utf8' });
    assert.equal(child.status, 1, child.stderr);
    assert.match(child.stdout, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1:1 config file too large: .*1024 KiB.* \\[WG_ERR_CONFIG_TOO_LARGE\\]$`, 'm'));
  } finally {
    await ws.remove();
  }
});
