/**
 * Two pipelines of one gateway with devices on one RS-485 bus (a socat pty pair, Debian's pymodbus as
 * the two slaves): they share one arbiter, so the port is opened once and both pipelines' devices are
 * read. Before, the second pipeline opened the port a second time, failed on the port's lock and
 * never read its device. End to end: real config loader, Gateway, mosquitto, an independent subscriber.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { Gateway } from '../../src/host/gateway.js';
import { findSocat } from '../support/pty-pair.js';
import { startRtuBus, type RtuBusFixture } from '../support/rtu-bus-fixture.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import type { TestBroker } from '../support/test-broker.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { gatewayYaml } from '../support/gateway-fixture.js';

function pipelineYaml(name: string, bus: string, port: string, device: string, unit: number): string {
  return `pipeline: { name: ${name} }
source:
  modbus_rtu:
    buses:
      - name: ${bus}
        port: ${port}
        baud: 19200
        parity: none
        devices:
          - name: ${device}
            unit_id: ${unit}
            interval: 100ms
            timeout: 500ms
            points: [{ name: level, function: 3, address: 0, type: uint16 }]
steps:
  - plugin: modbus
  - plugin: json
    with: { include: { device: true } }
publish: { uplink: cloud, topic: "t/${name}/{device}/{point}" }
`;
}

describe('two pipelines on one serial bus', { ...needs('python3-pymodbus', !!findPymodbusPython()), ...needs('socat', !!findSocat()), ...needs('mosquitto', !!mosquittoPath()) }, () => {
  let bus: RtuBusFixture;
  let broker: TestBroker;
  let dir: string;

  before(async () => {
    bus = await startRtuBus({ 1: { holding: { 0: [111] } }, 2: { holding: { 0: [222] } } });
    broker = await startMosquitto();
    dir = await mkdtemp(join(tmpdir(), 'wasmgate-shared-bus-'));
  });
  after(async () => {
    await broker?.dispose();
    await bus?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('share one arbiter: the port opens once, and each pipeline reads its own slave', async () => {
    await writeFile(join(dir, 'gateway.yaml'), gatewayYaml(broker.url, 'gw-shared', { pipelines: ['./tanks.yaml', './pumps.yaml'] }));
    await writeFile(join(dir, 'tanks.yaml'), pipelineYaml('tanks', 'rs485', bus.busPath, 'tank', 1));
    await writeFile(join(dir, 'pumps.yaml'), pipelineYaml('pumps', 'line-a', bus.busPath, 'pump', 2));
    const loaded = await loadGatewayConfig(join(dir, 'gateway.yaml'));
    assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
    const subscriber = await subscribe(broker.url, 't/#');
    const gateway = await Gateway.start(loaded.config, { logger: pino({ level: 'silent' }), statusIntervalMs: 0 });
    try {
      const good = (topic: string) => subscriber.messages.filter((m) => m.topic === topic).map((m) => JSON.parse(m.payload.toString()) as { value: number; quality: string }).filter((m) => m.quality === 'good');
      await subscriber.waitUntil(() => good('t/tanks/tank/level').length >= 5 && good('t/pumps/pump/level').length >= 5, 'five good readings from each pipeline', 20_000);
      assert.equal(good('t/tanks/tank/level')[0]!.value, 111);
      assert.equal(good('t/pumps/pump/level')[0]!.value, 222);
      const [tanks, pumps] = gateway.status().pipelines;
      // One arbiter: both pipelines report the same link, serving both devices, opened once, one
      // transaction at a time, and nothing thrown away as another request's answer.
      for (const p of [tanks!, pumps!]) {
        assert.equal(p.links.length, 1);
        assert.equal(p.links[0]!.devices, 2);
        assert.equal(p.links[0]!.opens, 1);
        assert.equal(p.links[0]!.peakInFlight, 1);
        assert.equal(p.links[0]!.link, 'rs485', 'the line is named by the pipeline that opened it');
        assert.equal(p.devices[0]!.timeouts, 0, `${p.name}: ${JSON.stringify(p.devices[0])}`);
      }
      assert.equal(tanks!.links[0]!.transactions, pumps!.links[0]!.transactions);
    } finally {
      await gateway.stop();
      await subscriber.close();
    }
  });

  test('one port written under two paths (a by-id style link and its device) is still one line', async () => {
    // bus.busPath is a symlink to /dev/pts/N, as /dev/serial/by-id/... is to /dev/ttyUSB0. Before, the
    // pipelines were keyed by the written path: two arbiters, and the second failed on the port's lock.
    const device = await realpath(bus.busPath);
    await writeFile(join(dir, 'gateway.yaml'), gatewayYaml(broker.url, 'gw-alias', { pipelines: ['./tanks.yaml', './pumps.yaml'] }));
    await writeFile(join(dir, 'tanks.yaml'), pipelineYaml('tanks', 'rs485', bus.busPath, 'tank', 1));
    await writeFile(join(dir, 'pumps.yaml'), pipelineYaml('pumps', 'line-a', device, 'pump', 2));
    const loaded = await loadGatewayConfig(join(dir, 'gateway.yaml'));
    assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
    const subscriber = await subscribe(broker.url, 't/#');
    const gateway = await Gateway.start(loaded.config, { logger: pino({ level: 'silent' }), statusIntervalMs: 0 });
    try {
      const good = (topic: string) => subscriber.messages.filter((m) => m.topic === topic).map((m) => JSON.parse(m.payload.toString()) as { value: number; quality: string }).filter((m) => m.quality === 'good');
      await subscriber.waitUntil(() => (good('t/tanks/tank/level').length >= 5 && good('t/pumps/pump/level').length >= 5) || subscriber.messages.some((m) => m.topic === 't/pumps/pump/level' && !m.payload.toString().includes('"good"')), 'five good readings from each pipeline, or a bad one from pumps', 20_000);
      assert.ok(good('t/pumps/pump/level').length >= 5, `pumps read nothing good: ${JSON.stringify(gateway.status().pipelines[1]!.links)}`);
      const [tanks, pumps] = gateway.status().pipelines;
      assert.equal(tanks!.links[0]!.opens, 1);
      assert.equal(pumps!.links[0]!.link, 'rs485', 'the line opened by tanks');
      assert.equal(pumps!.links[0]!.devices, 2);
    } finally {
      await gateway.stop();
      await subscriber.close();
    }
  });
});
