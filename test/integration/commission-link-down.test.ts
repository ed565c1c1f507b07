/**
 * `wasmgate scan modbus` and `wasmgate probe` on a link that never opens: a serial port the daemon
 * holds (locked by another open, here our own serial transport on a socat pty pair), a path that is a
 * directory. The operator must be told the port could not be opened, not that no unit answered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { serialTransport } from '../../src/hal/serial.js';
import { findSocat, startPtyPair } from '../support/pty-pair.js';
import { needs } from '../support/tools.js';
import { runWasmgate as wasmgate } from '../support/wasmgate-cli.js';


test('scan on a serial port another process holds says it cannot open the port', needs('socat', !!findSocat()), async () => {
  const pair = await startPtyPair();
  const daemon = serialTransport({ device: 'daemon', path: pair.busPath, baudRate: 19200, dataBits: 8, parity: 'even', stopBits: 1, connectTimeoutMs: 5_000 });
  await daemon.open();
  try {
    const r = await wasmgate(['scan', 'modbus', '--serial', pair.busPath, '--unit', '1..3', '--timeout', '50ms']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '', 'no list of units: none was asked');
    assert.match(r.stderr, new RegExp(`cannot connect to probe: ${pair.busPath}: .*lock.* \\[WG_ERR_HAL_CONNECT\\]`, 'i'));
  } finally {
    await daemon.close();
    await pair.stop();
  }
});

test('probe on a path that is a directory says so, in place of "no answer"', async () => {
  const r = await wasmgate(['probe', '--serial', tmpdir(), '--timeout', '50ms']);
  assert.equal(r.code, 1);
  assert.doesNotMatch(r.stdout, /no answer/);
  assert.match(r.stderr, /cannot connect to probe: .*(directory|EISDIR).*\[WG_ERR_HAL_CONNECT\]/i);
});
