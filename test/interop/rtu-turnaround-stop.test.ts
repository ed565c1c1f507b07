/**
 * A device whose turnaround is the longest the config takes (2147483647ms, 24.8 days) on a bus of two,
 * against Debian's pymodbus on a socat pty pair: after its first transaction the bus keeps quiet for
 * it, so the other device waits for the link. Stopping the pipeline then must not wait out that quiet.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPymodbusRtuSerial, type PymodbusRtuServer } from '../support/pymodbus-rtu.js';
import { findSocat, startPtyPair, type PtyPair } from '../support/pty-pair.js';
import { startCapturedPipeline } from '../support/captured-pipeline.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';

const image = { holding: { 0: [42, 43] } };

describe('a bus held quiet by a 24-day turnaround', { ...needs('python3-pymodbus', !!findPymodbusPython()), ...needs('socat', !!findSocat()) }, () => {
  let pty: PtyPair;
  let bus: PymodbusRtuServer;
  before(async () => {
    pty = await startPtyPair();
    bus = await startPymodbusRtuSerial({ path: pty.peerPath, baudRate: 38400, parity: 'none', units: { 1: image, 2: image } });
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
          - { name: u1, unit_id: 1, interval: 100ms, timeout: 150ms, turnaround: 2147483647ms, points: [{ name: a, function: 3, address: 0, type: uint16 }] }
          - { name: u2, unit_id: 2, interval: 100ms, timeout: 150ms, points: [{ name: a, function: 3, address: 1, type: uint16 }] }
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "t/{device}/{point}" }
`);
    await waitFor(() => run.pipeline.status().devices.find((d) => d.device === 'u1')!.responses >= 1, 10_000);
    // A stop that hangs fails the test by the runner's own timeout; a race names it here instead.
    const stopped = await Promise.race([run.stop().then(() => 'stopped'), new Promise((r) => setTimeout(() => r('still waiting'), 30_000).unref())]);
    assert.equal(stopped, 'stopped');
  });
});
