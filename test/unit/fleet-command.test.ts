/**
 * Fleet commands read as hostile (src/host/fleet/fleet-command.ts): each field checked, every
 * refusal naming the field, the id kept when it is readable so the refusal can answer it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand } from '../../src/host/fleet/fleet-command.js';
import { isWgError } from '../../src/host/errors.js';

const HEX = 'ab'.repeat(32);
const EXPIRES = '2026-12-03T18:00:00Z';
const parse = (value: unknown) => parseCommand(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));

function refused(value: unknown, id: string, detail: RegExp): void {
  assert.throws(() => parse(value), (err: unknown) => {
    assert.ok(isWgError(err, 'WG_ERR_FLEET_COMMAND'), String(err));
    assert.equal(err.context.id, id);
    assert.match(String(err.context.detail), detail);
    return true;
  });
}

test('the three ops, as written', () => {
  assert.deepEqual(parse({ id: 'r1/gw-a/install', op: 'install', plugin: 'scale', version: '0.2.0', sha256: HEX, package: 'AAAA', expires: EXPIRES }), {
    id: 'r1/gw-a/install', op: 'install', plugin: 'scale', version: '0.2.0', sha256: HEX, source: { kind: 'inline', base64: 'AAAA' }, expiresMs: Date.UTC(2026, 11, 3, 18),
  });
  assert.deepEqual(parse({ id: 'x', op: 'install', plugin: 'scale', version: '1.0.0-rc.1', sha256: HEX, url: 'https://files.example/scale.wgp', expires: EXPIRES }).op, 'install');
  assert.deepEqual(parse({ id: 'x', op: 'rollback', plugin: 'scale', version: '0.2.0', expires: EXPIRES }), { id: 'x', op: 'rollback', plugin: 'scale', version: '0.2.0', expiresMs: Date.UTC(2026, 11, 3, 18) });
  assert.deepEqual(parse({ id: 'x', op: 'status', expires: EXPIRES }), { id: 'x', op: 'status', expiresMs: Date.UTC(2026, 11, 3, 18) });
});

test('not JSON, not an object, or no readable id', () => {
  refused('{"id": "x", ', '(none)', /^not JSON/);
  refused('[1,2]', '(none)', /not a JSON object/);
  refused({ op: 'status', expires: EXPIRES }, '(none)', /^id must be/);
  refused({ id: 'a b', op: 'status', expires: EXPIRES }, '(none)', /^id must be/);
  refused({ id: 'x'.repeat(129), op: 'status', expires: EXPIRES }, '(none)', /^id must be/);
});

test('each wrong field is named, with the id kept', () => {
  const base = { id: 'c1', op: 'install', plugin: 'scale', version: '0.2.0', sha256: HEX, package: 'AAAA', expires: EXPIRES };
  refused({ ...base, op: 'reboot' }, 'c1', /op must be install, rollback or status \(got "reboot"\)/);
  refused({ ...base, shell: 'x' }, 'c1', /install has no field shell/);
  refused({ id: 'c1', op: 'status', expires: EXPIRES, plugin: 'scale' }, 'c1', /status has no field plugin/);
  refused({ ...base, expires: 'tomorrow' }, 'c1', /expires must be an ISO 8601 time/);
  refused({ ...base, plugin: '../etc' }, 'c1', /plugin must be a plugin name/);
  refused({ ...base, version: 'latest' }, 'c1', /version must be a version/);
  refused({ ...base, sha256: HEX.toUpperCase() }, 'c1', /sha256 must be the package file's sha256/);
  refused({ ...base, package: 'not base64!' }, 'c1', /package must be the package file in base64/);
  refused({ ...base, url: 'https://x.example/p.wgp' }, 'c1', /one of the two/);
  const { package: _, ...noSource } = base;
  refused(noSource, 'c1', /one of the two/);
  refused({ ...noSource, url: 'file:///etc/passwd' }, 'c1', /url must be http: or https: \(got file:\)/);
  refused({ ...noSource, url: 'not a url' }, 'c1', /url is not a URL/);
});
