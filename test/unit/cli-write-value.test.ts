/**
 * `wasmgate write`'s value argument: what an engineer types is the value written, or refused. Values
 * travel as doubles, so an integer beyond 2^53 (9007199254740992, by arithmetic) typed in full is
 * refused instead of silently becoming its neighbour; a not-a-number, an overflow and text are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeValue } from '../../src/host/cli/write.js';

const usage = (e: Error & { code?: string }) => e.code === 'WG_ERR_CLI_USAGE';

test('numbers and words a person types are the values written', () => {
  assert.equal(writeValue('42'), 42);
  assert.equal(writeValue('-1.5'), -1.5);
  assert.equal(writeValue('1e3'), 1000);
  assert.equal(writeValue('true'), 1);
  assert.equal(writeValue('off'), 0);
  assert.equal(writeValue('9007199254740991'), 2 ** 53 - 1);
  assert.equal(writeValue('-9007199254740991'), -(2 ** 53 - 1));
});

test('NaN, 1e309, text, nothing and integers past 2^53 are refused before anything is sent', () => {
  for (const text of ['NaN', '1e309', '-1e309', 'abc', '', '  ', '9007199254740993', '-9007199254740993', '18446744073709551615']) {
    assert.throws(() => writeValue(text), usage, text);
  }
  assert.throws(() => writeValue('9007199254740993'), /would be written as 9007199254740992/);
});
