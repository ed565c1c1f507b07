/**
 * Hostile cases on one RTU bus, against Debian's pymodbus on a socat pty pair. A device whose turnaround
 * is the longest the config takes (10s; it took 24.8 days before that cap): after its first transaction
 * the bus keeps quiet for it, so the other device waits for the link; stopping the pipeline must not
 * wait that out (it is compared with the turnaround itself, not with a time of its own).
 * A slave that is not on the bus: the operator is told where it was asked (the port, not "address
 * unknown") and what to check on a bus (not a TCP connection's causes). A scan of a range where most
 * units are absent lists the ones there, without a line per absent unit on stderr, and does not call a
 * corrupt frame an exception.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPymodbusRtuSerial, type PymodbusRtuServer } from '../support/pymodbus-rtu.js';
import { findSocat, startPtyPair, type PtyPair } from '../support/pty-pair.js';
import { startCapturedPipeline } from '../support/captured-pipeline.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/wasmgate.js', import.meta.url));

const image = { holding: { 0: [42, 43] } };

describe('hostile devices on an RTU bus', { ...needs('python3-pymodbus', !!findPymodbusPython()), ...needs('socat', !!findSocat()) }, () => {
  let pty: PtyPair;
  let bus: PymodbusRtuServer;
  before(async () => {
    pty = await startPtyPair();
    bus = await startPymodbusRtuSerial({ path: pty.peerPath, baudRate: 38400, parity: 'none', units: { 1: image, 2: image, 3: { ...image, fault: { kind: 'exception', code: 2 } }, 4: { ...image, fault: { kind: 'bad-crc' } } } });
  });
  after(async () => {
    await bus?.stop();
    await pty?.stop();
  });

  test('stop ends the pollers waiting for the quiet instead of waiting 24 days', async () => {
    const run = await startCapturedPipeline(`pipeline: { name: quiet }
source:
  modbus_rtu:
    buses:
      - name: line
        port: ${pty.busPath}
        baud: 38400
        parity: none
        devices:
          - { name: u1, unit_id: 1, interval: 100ms, timeout: 150ms, turnaround: 10s, points: [{ name: a, function: 3, address: 0, type: uint16 }] }
          - { name: u2, unit_id: 2, interval: 100ms, timeout: 150ms, points: [{ name: a, function: 3, address: 1, type: uint16 }] }
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "t/{device}/{point}" }
`);
    await waitFor(() => run.pipeline.status().devices.find((d) => d.device === 'u1')!.responses >= 1, 10_000);
    // The quiet began at u1's first answer, just before this: a stop that waits it out takes almost the
    // whole 10 s turnaround, and loses the race against half of it.
    const stopped = await Promise.race([run.stop().then(() => 'stopped'), new Promise((r) => setTimeout(() => r('still waiting'), 5_000).unref())]);
    assert.equal(stopped, 'stopped');
  });

  test('a slave that never answers is reported at its port, with what to check on a bus', async () => {
    const run = await startCapturedPipeline(`pipeline: { name: absent }
source:
  modbus_rtu:
    buses:
      - name: line
        port: ${pty.busPath}
        baud: 38400
        parity: none
        devices:
          - { name: u9, unit_id: 9, interval: 100ms, timeout: 100ms, points: [{ name: a, function: 3, address: 0, type: uint16 }] }
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "t/{device}/{point}" }
`);
    try {
      await waitFor(() => run.lines.some((l) => l.code === 'WG_ERR_DEVICE_NO_ANSWER'), 10_000);
      const report = run.lines.find((l) => l.code === 'WG_ERR_DEVICE_NO_ANSWER')!;
      assert.equal(report.path, pty.busPath);
      assert.ok(report.msg.startsWith(`device u9 (${pty.busPath}, unit id 9) does not answer within 100 ms: it has never answered on this bus`), report.msg);
    } finally {
      await run.stop();
    }
  });

  test('scan lists the units that answer, without a line per absent unit; a bad CRC is not called an exception', () => {
    const r = spawnSync(process.execPath, [BIN, 'scan', 'modbus', '--serial', pty.busPath, '--baud', '38400', '--parity', 'none', '--unit', '1..6', '--timeout', '50ms'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // Unit 3 answers exception 2, unit 4 with a bad CRC: both are there, neither is good, and a bad CRC is no exception.
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'asked 6 unit id(s); 4 answered', 'unit 1: 42', 'unit 2: 42',
      'unit 3: (answer not good: an exception or a corrupt frame) bad', 'unit 4: (answer not good: an exception or a corrupt frame) bad',
    ]);
    assert.doesNotMatch(r.stderr, /WG_ERR_DEVICE_NO_ANSWER/);
  });
});
