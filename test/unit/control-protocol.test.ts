/**
 * The control protocol's line reading and request checks (docs/control.md), on inputs written out by
 * hand: lines split across chunks anywhere (inside a UTF-8 character too), the line limit counted in
 * bytes, each way a request line can be refused, and how an operation's parameters are read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, parseRequest } from '../../src/host/control/control-protocol.js';
import { readParams } from '../../src/host/control/control-params.js';
import type { WgError } from '../../src/host/errors.js';

test('lines are cut at newlines whatever the chunks, a UTF-8 character split between chunks included; CRLF is a newline', () => {
  const splitter = new LineSplitter(100);
  // "é" is C3 A9: the first chunk ends between its two bytes.
  const bytes = Buffer.from('{"op":"caf\u00e9"}\r\n{"id":2}\n{"par', 'utf8');
  const cut = bytes.indexOf(0xc3) + 1;
  assert.deepEqual(splitter.push(bytes.subarray(0, cut)), { lines: [], overflow: false });
  assert.deepEqual(splitter.push(bytes.subarray(cut)), { lines: ['{"op":"café"}', '{"id":2}'], overflow: false });
  assert.deepEqual(splitter.push(Buffer.from('tial"}\n')), { lines: ['{"partial"}'], overflow: false });
});

test('the limit is in bytes, newline not counted: a line of exactly the limit passes, one byte more overflows, also when it arrives in pieces', () => {
  const exact = new LineSplitter(4);
  assert.deepEqual(exact.push(Buffer.from('ab')), { lines: [], overflow: false });
  assert.deepEqual(exact.push(Buffer.from('cd\n')), { lines: ['abcd'], overflow: false });
  assert.deepEqual(new LineSplitter(4).push(Buffer.from('abcde\n')), { lines: [], overflow: true });
  const pieces = new LineSplitter(4);
  assert.deepEqual(pieces.push(Buffer.from('abc')), { lines: [], overflow: false });
  assert.deepEqual(pieces.push(Buffer.from('de')), { lines: [], overflow: true });
  // Two-byte characters: "éé" is 4 bytes and fits; "ééé" is 6 and does not.
  assert.deepEqual(new LineSplitter(4).push(Buffer.from('\u00e9\u00e9\n')), { lines: ['éé'], overflow: false });
  assert.equal(new LineSplitter(4).push(Buffer.from('\u00e9\u00e9\u00e9\n')).overflow, true);
});

test('a request is an object with an integer id and an op; params default to {}', () => {
  assert.deepEqual(parseRequest('{"id":1,"op":"status"}'), { ok: true, request: { id: 1, op: 'status', params: {} } });
  assert.deepEqual(parseRequest('{"id":0,"op":"write","params":{"device":"plc"}}'), { ok: true, request: { id: 0, op: 'write', params: { device: 'plc' } } });
});

test('every malformed request is refused with WG_ERR_CONTROL_REQUEST, keeping the id when it could be read', () => {
  const cases: Array<[string, number | null, RegExp]> = [
    ['not json', null, /not JSON/],
    ['"status"', null, /a request is a JSON object/],
    ['[1]', null, /a request is a JSON object/],
    ['{"op":"status"}', null, /id must be an integer \(got nothing\)/],
    ['{"id":1.5,"op":"status"}', null, /id must be an integer \(got 1\.5\)/],
    ['{"id":9007199254740993,"op":"status"}', null, /id must be an integer/],
    ['{"id":3}', 3, /op must be the name of an operation \(got nothing\)/],
    ['{"id":3,"op":""}', 3, /op must be the name/],
    ['{"id":4,"op":"status","params":"all"}', 4, /params must be an object \(got "all"\)/],
    ['{"id":4,"op":"status","params":null}', 4, /params must be an object \(got null\)/],
    ['{"id":5,"op":"status","when":"now"}', 5, /unknown request field\(s\) when/],
  ];
  for (const [line, id, message] of cases) {
    const parsed = parseRequest(line);
    assert.equal(parsed.ok, false, line);
    if (parsed.ok) continue;
    assert.equal(parsed.id, id, line);
    assert.equal(parsed.error.code, 'WG_ERR_CONTROL_REQUEST', line);
    assert.match(parsed.error.message, message, line);
  }
});

test("an operation's parameters: types checked, a required one missing refused, an unknown one refused and the known ones named", () => {
  const spec = { device: { type: 'string', required: true }, unit: { type: 'integer' }, dry_run: { type: 'boolean' } } as const;
  assert.deepEqual(readParams('read', { device: 'plc', unit: 3 }, spec), { device: 'plc', unit: 3 });
  const refusals: Array<[Record<string, unknown>, string]> = [
    [{}, 'read: parameter device (string) is required'],
    [{ device: 7 }, 'read: parameter device must be a string (got 7)'],
    [{ device: 'plc', unit: 1.5 }, 'read: parameter unit must be an integer (got 1.5)'],
    [{ device: 'plc', dry_run: 'yes' }, 'read: parameter dry_run must be a boolean (got "yes")'],
    [{ device: 'plc', force: true }, 'read: unknown parameter(s) force; it takes device, unit, dry_run'],
  ];
  for (const [params, detail] of refusals) {
    assert.throws(() => readParams('read', params, spec), (e: WgError) => e.code === 'WG_ERR_CONTROL_REQUEST' && e.message === `control request refused: ${detail}`, JSON.stringify(params));
  }
  assert.throws(() => readParams('status', { verbose: true }, {}), (e: WgError) => e.message === 'control request refused: status: unknown parameter(s) verbose; it takes none');
});
