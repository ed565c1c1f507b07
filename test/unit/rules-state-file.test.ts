/**
 * The rules' state file (rule-state-file.ts): what is saved is read back; a file of another rule set,
 * a damaged one or none at all starts the rules fresh, each with its reason; the compiled module takes
 * back the state of its own rule set and goes on from it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuleStateFile, rulesFingerprint } from '../../src/host/rules/rule-state-file.js';
import { CompiledRules, compileRuleSet } from '../../src/host/rules/compiled-rules.js';
import { POINTS, ruleSet } from './rules-fixture.js';

function sample(ts: number, point: number, value: number): Uint8Array {
  const batch = new Uint8Array(32);
  const view = new DataView(batch.buffer);
  view.setUint32(0, 1, true);
  view.setFloat64(8, ts, true);
  view.setFloat64(16, value, true);
  view.setUint32(24, point, true);
  return batch;
}

test('a saved state is taken back by the same rule set, refused by another, and a damaged file is said to be damaged', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-rules-state-'));
  try {
    const set = await ruleSet(['  - { name: hot, when: "plc1:boiler.temp > 95", for: 10s }']);
    const other = await ruleSet(['  - { name: hot, when: "plc1:boiler.temp > 96", for: 10s }']);
    const file = new RuleStateFile(dir, 'p1', rulesFingerprint(set));
    assert.deepEqual(await file.read(), { ok: false, reason: 'no state saved yet' });

    // Hot from 0 s: after a restart at 5 s the for: timer goes on from 0 s and the rule fires at 10 s.
    const before = new CompiledRules(compileRuleSet(set, 'p1'), { pipeline: 'p1' });
    assert.deepEqual(before.batch(sample(0, POINTS.temp, 99)), []);
    await file.save(before.snapshot());
    const read = await file.read();
    assert.ok(read.ok);
    const after = new CompiledRules(compileRuleSet(set, 'p1'), { pipeline: 'p1' });
    assert.ok(read.ok && after.restore(read.state));
    assert.deepEqual(after.tick(9_999), []);
    assert.deepEqual(after.tick(10_000).map((e) => e.kind), ['fire']);

    const otherFile = new RuleStateFile(dir, 'p1', rulesFingerprint(other));
    assert.deepEqual(await otherFile.read(), { ok: false, reason: 'the saved state is of another rule set (the rules changed)' });

    const bytes = await readFile(file.file);
    bytes[bytes.length - 1]! ^= 0xff;
    await writeFile(file.file, bytes);
    const damaged = await file.read();
    assert.equal(damaged.ok, false);
    assert.match(damaged.ok ? '' : damaged.reason, /damaged/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
