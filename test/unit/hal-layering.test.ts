// "Layers point down" (STYLE.md): the HAL imported its error type from src/host/errors.ts, so the
// lowest layer depended on the one above it. The shared error base is now src/errors.ts and the HAL's
// codes live in src/hal/errors.ts; this keeps it that way, and checks the host still sees HAL errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/plugins.js';
import { HalError } from '../../src/hal/errors.js';
import { ERROR_CODES, isWgError } from '../../src/host/errors.js';

test('nothing in src/hal imports from src/host', () => {
  const dir = join(REPO_ROOT, 'src', 'hal');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 5, `the HAL's files are read (${files.join(', ')})`);
  for (const file of files) {
    const imports = [...readFileSync(join(dir, file), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
    for (const path of imports) assert.doesNotMatch(path, /(^|\/)host\//, `src/hal/${file} imports ${path}`);
  }
});

test('a HAL error is a wasmgate error to the host: its code is in the registry and isWgError knows it', () => {
  const error = new HalError('WG_ERR_HAL_TIMEOUT', { device: 'plc1', detail: '1 s' });
  assert.equal(error.message, 'no answer from plc1 within 1 s');
  assert.equal(isWgError(error, 'WG_ERR_HAL_CLOSED'), false);
  assert.ok(isWgError(error, 'WG_ERR_HAL_TIMEOUT'));
  assert.ok(Object.hasOwn(ERROR_CODES, 'WG_ERR_HAL_RX_OVERFLOW'));
  assert.ok(!isWgError(Object.assign(new Error('x'), { code: 'WG_ERR_HAL_TIMEOUT' })), 'a look-alike is not one');
});
