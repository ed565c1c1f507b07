/**
 * The error registry and its documentation stay in step: every code in ERROR_CODES has an index entry
 * and a section in docs/errors.md quoting its current message, and the doc documents no code that no
 * longer exists (after fastify's test/internals/errors.test.js).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES } from '../../src/host/errors.js';

const DOC = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../../../docs/errors.md'), 'utf8');
const CODES = Object.keys(ERROR_CODES);

const indexed = [...DOC.matchAll(/^- \[(WG_ERR_[A-Z0-9_]+)\]\(#([a-z0-9_]+)\)$/gm)];
const sections = [...DOC.matchAll(/^### (WG_ERR_[A-Z0-9_]+)$/gm)].map((m) => m[1] as string);

/** The text of a code's section: from its heading to the next heading. */
function sectionOf(code: string): string {
  const start = DOC.indexOf(`### ${code}\n`) + `### ${code}\n`.length;
  const next = DOC.slice(start).search(/^#{2,3} /m);
  return next < 0 ? DOC.slice(start) : DOC.slice(start, start + next);
}

test('every error code is in the index of docs/errors.md, linking to its section', () => {
  for (const code of CODES) {
    const entry = indexed.find((m) => m[1] === code);
    assert.ok(entry, `${code} is missing from the index of docs/errors.md`);
    assert.equal(entry[2], code.toLowerCase(), `${code}: index link must be #${code.toLowerCase()}`);
  }
});

test('the index of docs/errors.md lists no code that does not exist', () => {
  for (const [, code] of indexed) assert.ok(CODES.includes(code as string), `${code} is in the index but not in ERROR_CODES`);
});

test('every error code has a section in docs/errors.md quoting its current message', () => {
  for (const code of CODES) {
    assert.ok(sections.includes(code), `${code} has no "### ${code}" section in docs/errors.md`);
    const body = sectionOf(code);
    const message = ERROR_CODES[code as keyof typeof ERROR_CODES].message;
    assert.ok(body.includes(`Message: \`${message}\``), `${code}: the section must quote the message \`${message}\``);
    assert.match(body, /What to do:/, `${code}: the section must say what the operator should do`);
  }
});

test('docs/errors.md has no section for a code that does not exist, and none twice', () => {
  for (const code of sections) assert.ok(CODES.includes(code), `${code} is documented but not in ERROR_CODES`);
  assert.equal(new Set(sections).size, sections.length, 'a code is documented twice');
});
