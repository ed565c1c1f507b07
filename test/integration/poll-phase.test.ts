/**
 * The devices of a pipeline poll spread over their interval, not all at the same instant
 * (poll-phase.ts): the real daemon polls four PLCs (test/support/counting-plc.ts records when each
 * answered each poll) every 400 ms, so device i should answer about 100·i ms after device 0 in every
 * cycle. Started together they answered within a millisecond or two of each other. Judged by the
 * median offset over the cycles, with wide margins (half to one and a half of the spacing), so a
 * late timer on a busy machine does not decide it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCountingPlc, type CountingPlc } from '../support/counting-plc.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { needs } from '../support/tools.js';

const DEVICES = 4;
const INTERVAL_MS = 400;
const SPACING_MS = INTERVAL_MS / DEVICES;

function pipeline(plcs: readonly CountingPlc[]): string {
  const devices = plcs.map((plc, i) => `      - { name: d${i}, host: 127.0.0.1, port: ${plc.port}, interval: ${INTERVAL_MS}ms, timeout: 2s, retries: 0, points: [{ name: polls, function: 3, address: 0, type: uint32 }] }`).join('\n');
  return `pipeline: { name: plant }
source:
  modbus_tcp:
    devices:
${devices}
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "plant/{device}/{point}" }
`;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

test('four devices at 400 ms poll about 100 ms apart in every cycle, not at once', needs('mosquitto', !!mosquittoPath()), async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const plcs = await Promise.all(Array.from({ length: DEVICES }, () => startCountingPlc()));
  t.after(() => Promise.all(plcs.map((p) => p.close())));
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-phase'), pipeline(plcs));
  t.after(() => fixture.dispose());
  const daemon = startGatewayProcess(fixture.gatewayFile);
  t.after(() => daemon.kill());
  const deadline = Date.now() + 60_000;
  while (Math.min(...plcs.map((p) => p.last())) < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await daemon.stop(), 0);
  // Cycle k of device i is its k-th answer; the first two cycles are left out (the start).
  const times = plcs.map((p) => [...p.answeredAt.values()]);
  const cycles = Math.min(...times.map((t) => t.length));
  assert.ok(cycles >= 10, `every device answered at least 10 polls (${times.map((t) => t.length).join(', ')})`);
  for (let i = 1; i < DEVICES; i++) {
    const offsets = Array.from({ length: cycles - 2 }, (_, k) => times[i]![k + 2]! - times[0]![k + 2]!);
    const offset = median(offsets);
    assert.ok(offset >= 0.5 * SPACING_MS * i && offset <= 1.5 * SPACING_MS * i,
      `device ${i} answers about ${SPACING_MS * i} ms after device 0 (median ${offset} ms over ${offsets.length} cycles: ${offsets.join(' ')})`);
  }
});
