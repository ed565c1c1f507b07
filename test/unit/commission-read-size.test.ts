/**
 * A probe or scan's values (unit ids times registers) are points of its one-shot pipeline; the modbus
 * plugin trapped in wg_configure ("unreachable") at 64 units of 1000 registers. Such a read is refused
 * up front, with the options or fields that make it, on the command line and on the control socket.
 * The CLI run needs no peer: the trap came at configure, before any connection (port 1 is closed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkedTarget, MOST_VALUES_PER_READ } from '../../src/host/commission/commission-target.js';
import { runWasmgate } from '../support/wasmgate-cli.js';

const target = (units: number, count: number) => ({
  link: { kind: 'modbus_tcp', host: '127.0.0.1', port: 1 },
  units: Array.from({ length: units }, (_, i) => i),
  range: { function: 3, address: 0, count },
  timeoutMs: 100,
  retries: 0,
});

test('the control socket refuses a read of more values than one read takes, naming the fields', () => {
  assert.equal(MOST_VALUES_PER_READ, 32_768);
  assert.throws(() => checkedTarget(target(64, 1000)), (e: Error & { code?: string }) => e.code === 'WG_ERR_CLI_USAGE' && /units and range\.count: 64 unit ids of 1000 values each are 64000 values; one read takes at most 32768/.test(e.message));
  assert.equal(checkedTarget(target(32, 1000)).units.length, 32);
});

test('scan refuses it as a usage error (exit 2), not as a plugin trap', async () => {
  const run = await runWasmgate(['scan', 'modbus', '--tcp', '127.0.0.1:1', '--unit', '0..63', '--count', '1000', '--json', '--standalone']);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /--unit and --count: 64 unit ids of 1000 values each are 64000 values/);
  assert.doesNotMatch(run.stderr, /WG_ERR_PLUGIN_TRAP/);
});
