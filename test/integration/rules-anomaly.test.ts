/**
 * The seed's factory example end to end: the `anomaly` plugin finds a change in a machine's signal and
 * a local rule writes the PLC's stop register. Real daemon, mosquitto, the PLC simulator (modbus-serial's
 * server) as the PLC. The vibration register sits at 50 while the plugin learns its baseline, then steps
 * to 60: z = (60 − 50) / min_deviation 1 = 10, far past h 2, so the first reading at 60 is suspect and
 * the rule fires on it, once; the register stays at 60, which becomes the new baseline, and nothing fires again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';

const VIBRATION = 0;
const STOP = 1;

function pipelineYaml(plcPort: number): string {
  return `pipeline: { name: line }
source:
  modbus_tcp:
    devices:
      - name: plc
        host: 127.0.0.1
        port: ${plcPort}
        interval: 50ms
        timeout: 300ms
        points:
          - { name: line.vibration, function: 3, address: ${VIBRATION}, type: int16 }
          - { name: line.stop, function: 3, address: ${STOP}, type: uint16, access: read_write }
steps:
  - plugin: modbus
  - plugin: anomaly
    with: { warmup: 5, h: 2, min_deviation: 1 }
  - plugin: json
publish: { uplink: cloud, topic: "line/{point}" }
rules:
  - name: vibration-shift
    when: suspect(line.vibration)
    severity: major
    actions:
      write: [{ point: line.stop, value: 1 }]
`;
}

test('the anomaly plugin flags a step in the vibration and a rule stops the line, once', needs('mosquitto', !!mosquittoPath()), async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { [VIBRATION]: [50], [STOP]: [0] } } });
  t.after(() => plc.close());
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-anomaly'), pipelineYaml(plc.port));
  t.after(() => fixture.dispose());
  const subscriber = await subscribe(broker.url, '#');
  t.after(() => subscriber.close());
  const gateway = startGatewayProcess(fixture.gatewayFile);
  t.after(() => gateway.stop());
  const readings = () => subscriber.messages.filter((m) => m.topic === 'line/line.vibration').map((m) => JSON.parse(m.payload.toString()) as { value: number; quality?: string });
  await waitFor(() => readings().length >= 10, 30_000, () => `${readings().length} readings`);
  assert.equal(plc.readHolding(STOP, 1)[0], 0, 'no stop while the signal is steady');

  plc.setHolding(VIBRATION, [60]);
  await waitFor(() => plc.readHolding(STOP, 1)[0] === 1, 20_000, () => `stop register not written; log: ${gateway.lines.filter((l) => /rule/.test(l)).slice(-3).join('\n')}`);
  const alarms = () => subscriber.messages.filter((m) => m.topic === 'wasmgate/gw-anomaly/line/alarms/vibration-shift').map((m) => (JSON.parse(m.payload.toString()) as { state: string }).state);
  await waitFor(() => alarms().length >= 2, 20_000, () => `alarms ${JSON.stringify(alarms())}`);
  // Twenty more readings at the new level: it is learnt as the baseline, nothing fires again.
  const seen = readings().length;
  await waitFor(() => readings().length >= seen + 20, 20_000);
  assert.deepEqual(alarms(), ['active', 'cleared'], 'one fire and its clear');
  assert.equal(readings().filter((r) => r.value === 60 && r.quality === 'suspect').length, 1, 'one reading flagged: the first at 60');
});
