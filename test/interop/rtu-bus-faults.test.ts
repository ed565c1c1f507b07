/**
 * One bus, several broken slaves, against Debian's pymodbus 3.0 serving every unit of an RTU bus over
 * a socat pty pair: a slave that stops answering, one that answers every read with an exception, one
 * whose answers have a bad CRC, one that sends garbage, one that is slow. The healthy slave on the same
 * bus keeps its poll rate: its requests are counted by pymodbus itself (independent of the gateway)
 * over the same window, first on a bus where it is alone, then with the broken ones, and compared.
 * A silent slave is quarantined and restored when it answers again. No timing thresholds: counts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPymodbusRtuSerial, type PymodbusRtuServer, type RtuUnit } from '../support/pymodbus-rtu.js';
import { findSocat, startPtyPair, type PtyPair } from '../support/pty-pair.js';
import { startCapturedPipeline, type CapturedPipeline } from '../support/captured-pipeline.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';

const WINDOW_MS = 4_000;
const HEALTHY = 1;
const image: RtuUnit = { holding: { 0: [42, 43] } };

function pipeline(path: string, units: number[], interval = '200ms'): string {
  return `pipeline: { name: bus }
source:
  modbus_rtu:
    buses:
      - name: line
        port: ${path}
        baud: 38400
        parity: none
        devices:
${units.map((u) => `          - { name: u${u}, unit_id: ${u}, interval: ${interval}, timeout: 150ms, retries: 1, points: [{ name: a, function: 3, address: 0, type: uint16 }, { name: b, function: 3, address: 1, type: uint16 }] }`).join('\n')}
steps:
  - plugin: modbus
  - plugin: json
    with: { include: { device: true } }
publish: { uplink: cloud, topic: "t/{device}/{point}" }
`;
}

/** Requests pymodbus saw from the healthy unit during one window, after the bus settled. */
async function healthyRate(bus: PymodbusRtuServer): Promise<number> {
  await new Promise((r) => setTimeout(r, 1_000));
  const before = (await bus.requestsSeen())[HEALTHY] ?? 0;
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  return ((await bus.requestsSeen())[HEALTHY] ?? 0) - before;
}

describe('a bus with broken slaves', { ...needs('python3-pymodbus', !!findPymodbusPython()), ...needs('socat', !!findSocat()) }, () => {
  let pty: PtyPair;
  let bus: PymodbusRtuServer;

  before(async () => {
    pty = await startPtyPair();
    bus = await startPymodbusRtuSerial({
      path: pty.peerPath, baudRate: 38400, parity: 'none',
      units: {
        1: image,
        2: { ...image, fault: { kind: 'silent' } },
        3: { ...image, fault: { kind: 'exception', code: 2 } },
        4: { ...image, fault: { kind: 'bad-crc' } },
        5: { ...image, fault: { kind: 'garbage' } },
        6: { ...image, fault: { kind: 'slow', delayMs: 60 } },
      },
    });
  });
  after(async () => {
    await bus?.stop();
    await pty?.stop();
  });

  test('the healthy slave keeps its poll rate beside silent, exception, bad-CRC, garbage and slow slaves', async () => {
    let alone: number;
    const solo = await startCapturedPipeline(pipeline(pty.busPath, [HEALTHY]));
    try {
      alone = await healthyRate(bus);
    } finally {
      await solo.stop();
    }
    let run: CapturedPipeline | undefined;
    try {
      run = await startCapturedPipeline(pipeline(pty.busPath, [1, 2, 3, 4, 5, 6]));
      const crowded = await healthyRate(bus);
      const status = run.pipeline.status();
      const byName = Object.fromEntries(status.devices.map((d) => [d.device, d]));
      // Each broken slave is seen for what it is, and costs the others nothing but its own bus time.
      assert.ok(byName.u2!.quarantined, 'the silent slave is quarantined');
      assert.ok(byName.u5!.quarantined, `the babbling slave is quarantined: ${JSON.stringify(byName.u5)}`);
      assert.ok(!byName.u4!.quarantined, 'a slave answering with a bad CRC answers quickly: not quarantined');
      assert.ok(byName.u4!.responses > 0 && byName.u5!.framingErrors + byName.u5!.timeouts > 0, JSON.stringify([byName.u4, byName.u5]));
      const quality = new Map<string, string>();
      for (const m of run.messages()) quality.set(String(m.device), String(m.quality));
      assert.equal(quality.get('u1'), 'good');
      assert.equal(quality.get('u2'), 'no-comm');
      assert.equal(quality.get('u3'), 'bad', 'an exception is bad quality, with its reason logged');
      assert.equal(quality.get('u4'), 'bad', 'a bad CRC is refused by the decoder');
      assert.equal(quality.get('u6'), 'good', 'slow but inside its timeout');
      assert.ok(run.lines.some((l) => l.code === 'WG_ERR_DEVICE_QUARANTINED' && l.device === 'u2'));
      assert.equal(status.links[0]!.peakInFlight, 1, 'one transaction at a time on the bus');
      assert.ok(crowded >= alone * 0.8, `healthy slave: ${crowded} requests in the window beside broken slaves, ${alone} alone`);
    } finally {
      await run?.stop();
    }
  });

  test('a poller that falls behind says so once and counts its missed polls', async () => {
    // The slow slave answers after 60 ms; with it on the bus no device can keep a 20 ms interval.
    const run = await startCapturedPipeline(pipeline(pty.busPath, [HEALTHY, 6], '20ms'));
    try {
      const healthy = () => run.pipeline.status().devices.find((d) => d.device === 'u1')!;
      await waitFor(() => healthy().overruns >= 10, 15_000, () => JSON.stringify(healthy()));
      const said = run.lines.filter((l) => l.code === 'WG_ERR_DEVICE_OVERRUN' && l.device === 'u1');
      assert.equal(said.length, 1, 'once per episode, not once per missed poll');
      assert.ok((said[0]!.missed as number) >= 1);
      assert.ok(run.pipeline.status().links[0]!.utilisation > 0.5, 'the bus is busy most of the time');
    } finally {
      await run.stop();
    }
  });

  test('a slave that comes back is restored from quarantine', async () => {
    const run = await startCapturedPipeline(pipeline(pty.busPath, [1, 2]));
    try {
      const u2 = () => run.pipeline.status().devices.find((d) => d.device === 'u2')!;
      await waitFor(() => u2().quarantined, 10_000);
      await bus.setFault(2, null);
      await waitFor(() => !u2().quarantined && u2().responses > 0, 15_000, () => JSON.stringify(u2()));
      assert.ok(run.lines.some((l) => l.device === 'u2' && /answers again; quarantine lifted/.test(l.msg)));
    } finally {
      await bus.setFault(2, { kind: 'silent' });
      await run.stop();
    }
  });
});
