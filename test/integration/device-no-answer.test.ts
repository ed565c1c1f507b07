// Regression, issue 6 "errors where a user is stuck": a device that never answers was logged as
// `no answer from plc within 999.9979410000001 ms`, again at every change of that number, without
// host, port or unit id and without a hint. Now it is reported once per episode, with where the device
// is and what to check, and the return is said too. Real gateway in process, real PLC simulator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { Gateway } from '../../src/host/gateway.js';
import { startPlcSimulator, type PlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startAedes } from '../support/aedes.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { waitFor } from '../support/wait.js';

function pipelineYaml(port: number): string {
  return `pipeline:
  name: plant
source:
  modbus_tcp:
    devices:
      - name: plc1
        host: 127.0.0.1
        port: ${port}
        unit_id: 1
        interval: 20ms
        timeout: 100ms
        retries: 1
        backoff: { min: 10ms, max: 20ms }
        points:
          - { name: level, function: 3, address: 0, type: uint16 }
steps:
  - plugin: modbus
  - plugin: json
publish:
  uplink: cloud
  topic: "p/{device}/{point}"
`;
}

type Line = Record<string, unknown> & { msg: string };

async function withGateway(plc: PlcSimulator, body: (gateway: Gateway, lines: Line[]) => Promise<void>): Promise<void> {
  const broker = await startAedes();
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url), pipelineYaml(plc.port));
  const loaded = await loadGatewayConfig(fixture.gatewayFile);
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n')) if (text) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  const gateway = await Gateway.start(loaded.config, { logger: pino({ level: 'info' }, sink), statusIntervalMs: 0 });
  try {
    await body(gateway, lines);
  } finally {
    await gateway.stop();
    await fixture.dispose();
    await broker.dispose();
  }
}

const device = (gateway: Gateway) => gateway.status().pipelines[0]!.devices[0]!;
const noAnswer = (lines: Line[]) => lines.filter((l) => l.code === 'WG_ERR_DEVICE_NO_ANSWER');

test('a device that never answers (wrong unit id) is reported once, with host, port, unit id and a hint', async () => {
  const plc = await startPlcSimulator({ mode: 'fixed', unitId: 7, registers: { holding: { 0: [1] } } });
  try {
    await withGateway(plc, async (gateway, lines) => {
      await waitFor(() => device(gateway).timeouts >= 10, 20_000, () => `${device(gateway).timeouts} timeouts`);
      const reports = noAnswer(lines);
      assert.equal(reports.length, 1, `one report for ${device(gateway).timeouts} timeouts: ${JSON.stringify(reports)}`);
      const [report] = reports as [Line];
      assert.equal(report.level, 50);
      assert.equal(report.device, 'plc1');
      assert.equal(report.host, '127.0.0.1');
      assert.equal(report.port, plc.port);
      assert.equal(report.unitId, 1);
      assert.match(report.msg, new RegExp(`^device plc1 \\(127\\.0\\.0\\.1:${plc.port}, unit id 1\\) does not answer within 100 ms: it accepts the connection but has never answered`));
      assert.match(report.msg, /unit_id/);
      assert.match(report.msg, /port/);
      for (const line of lines) assert.doesNotMatch(line.msg, /\d\.\d{3,} ?ms/, `a duration printed raw: ${line.msg}`);
      assert.match(String(device(gateway).lastError), /within 100 ms$/);
    });
  } finally {
    await plc.close();
  }
});

test('a device that stops answering is reported once per episode, and its return is said', async () => {
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [1] } } });
  try {
    await withGateway(plc, async (gateway, lines) => {
      await waitFor(() => device(gateway).responses >= 3, 10_000);
      plc.setResponseMode('ignore');
      await waitFor(() => noAnswer(lines).length === 1, 10_000, () => 'a no-answer report');
      const first = device(gateway).timeouts;
      await waitFor(() => device(gateway).timeouts >= first + 6, 20_000);
      assert.equal(noAnswer(lines).length, 1, 'one report while the device stays silent');
      assert.match(noAnswer(lines)[0]!.msg, /it answered before/);
      plc.setResponseMode('answer');
      await waitFor(() => lines.some((l) => l.msg === 'device plc1 answers again'), 10_000, () => 'the return');
      plc.setResponseMode('ignore');
      await waitFor(() => noAnswer(lines).length === 2, 10_000, () => 'a second episode');
    });
  } finally {
    await plc.close();
  }
});
