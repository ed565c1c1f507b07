/**
 * Regression (hostile tester, issue 10): the rules audit file in data_dir grew without bound, and a
 * rule writing all day would fill the SD card. Now a line that would take it past its limit (8 MiB;
 * 200 bytes here) first moves it to rules-audit.1.jsonl, replacing the generation before, and says
 * so (rule.audit_rotated). On the real file system, in a scratch directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { RuleAudit } from '../../src/host/rules/rule-audit.js';

test('the audit file is rotated before a line would take it past its limit; one generation is kept', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-audit-'));
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  try {
    const audit = new RuleAudit(dir, logger, 200);
    // Each record is 50 bytes with its newline: `{"n":"000","pad":"` (18), 29 x, `"}` (2) and the newline.
    const record = (n: number) => ({ n: String(n).padStart(3, '0'), pad: 'x'.repeat(29) });
    assert.equal(`${JSON.stringify(record(0))}\n`.length, 50);
    for (let n = 0; n < 4; n++) await audit.append(record(n));
    assert.equal((await stat(audit.file)).size, 200, 'four lines fill it to the limit, not past it');
    // The fifth would take it to 250: the four move to .1, the fifth starts the new file.
    await audit.append(record(4));
    const read = async (file: string) => (await readFile(file, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { n: string }).n);
    assert.deepEqual(await read(audit.rotatedFile), ['000', '001', '002', '003']);
    assert.deepEqual(await read(audit.file), ['004']);
    for (let n = 5; n < 9; n++) await audit.append(record(n));
    // 005..007 joined 004 (200 bytes); 008 rotated again, dropping 000..003.
    assert.deepEqual(await read(audit.rotatedFile), ['004', '005', '006', '007']);
    assert.deepEqual(await read(audit.file), ['008']);
    assert.deepEqual(lines.filter((l) => l.event === 'rule.audit_rotated').map((l) => l.bytes), [200, 200]);
    await audit.close();

    // A restarted daemon counts what the file already holds.
    const again = new RuleAudit(dir, logger, 200);
    for (let n = 9; n < 13; n++) await again.append(record(n));
    assert.deepEqual(await read(again.rotatedFile), ['008', '009', '010', '011']);
    assert.deepEqual(await read(again.file), ['012']);
    await again.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
