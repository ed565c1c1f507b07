/**
 * Hostile field cases on an RTU bus against Debian's pymodbus on a socat pty pair: the USB adapter is
 * unplugged mid-poll (socat stopped: both pty devices vanish) and plugged back in at the same path.
 * The pipeline must notice, keep its devices no-comm meanwhile, reopen the port and read again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPymodbusRtuSerial, type PymodbusRtuServer } from '../support/pymodbus-rtu.js';
import { findSocat, startPtyPair, type PtyPair } from '../support/pty-pair.js';
import { startCapturedPipeline } from '../support/captured-pipeline.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';

const image = { holding: { 0: [42, 43] } };

function pipeline(path: string): string {
  return `pipeline: { name: replug }
source:
  modbus_rtu:
    buses:
      - name: line
        port: ${path}
        baud: 38400
        parity: none
        devices:
          - { name: u1, unit_id: 1, interval: 100ms, timeout: 150ms, retries: 0, points: [{ name: a, function: 3, address: 0, type: uint16 }] }
          - { name: u2, unit_id: 2, interval: 100ms, timeout: 150ms, retries: 0, points: [{ name: a, function: 3, address: 1, type: uint16 }] }
steps:
  - plugin: modbus
  - plugin: json
    with: { include: { device: true } }
publish: { uplink: cloud, topic: "t/{device}/{point}" }
`;
}

describe('an RTU adapter unplugged and plugged back', { ...needs('python3-pymodbus', !!findPymodbusPython()), ...needs('socat', !!findSocat()) }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmgate-replug-'));
  let pty: PtyPair | undefined;
  let bus: PymodbusRtuServer | undefined;
  const plug = async () => {
    pty = await startPtyPair({ dir });
    bus = await startPymodbusRtuSerial({ path: pty.peerPath, baudRate: 38400, parity: 'none', units: { 1: image, 2: image } });
  };
  const unplug = async () => {
    await pty?.stop();
    await bus?.stop();
  };
  before(plug);
  after(async () => {
    await unplug();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the port is reopened at the same path and both devices are read again', async () => {
    const run = await startCapturedPipeline(pipeline(join(dir, 'bus')));
    try {
      const responses = () => run.pipeline.status().devices.reduce((n, d) => n + d.responses, 0);
      const opens = () => run.pipeline.status().links[0]!.opens;
      await waitFor(() => responses() >= 4, 10_000, () => JSON.stringify(run.pipeline.status()));
      await unplug();
      await waitFor(() => !run.pipeline.status().links[0]!.connected, 10_000, () => JSON.stringify(run.pipeline.status().links));
      const lost = run.messages().length;
      const before = responses();
      const opensBefore = opens();
      await plug();
      await waitFor(() => opens() > opensBefore && responses() >= before + 4, 20_000, () => JSON.stringify(run.pipeline.status()));
      const quality = new Map<string, string>();
      for (const m of run.messages().slice(lost)) quality.set(String(m.device), String(m.quality));
      assert.equal(quality.get('u1'), 'good');
      assert.equal(quality.get('u2'), 'good');
    } finally {
      await run.stop();
    }
  });
});
