// BACnet WriteProperty end to end against an independent stack: @bacnet-js/client serves commandable
// objects on loopback and decodes the gateway's requests with its own code; its priority array
// (ASHRAE 135, 19.2, kept by test/support/bacnet-device.ts) is read back after each write. The
// expected slots are the standard's: a write at priority p fills slot p (16 when none is named), a
// relinquish (Null) empties it, the present-value is the highest slot given or the relinquish default.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { enumerated, real, startBacnetDevice, type BacnetDevice, type SimObject } from '../support/bacnet-device.js';
import { startCapturedPipeline, type CapturedPipeline } from '../support/captured-pipeline.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { waitFor } from '../support/wait.js';

const BIN = fileURLToPath(new URL('../../../bin/wasmgate.js', import.meta.url));
const AO = 1;
const AV = 2;
const BO = 4;
const MSV = 19;
const REAL = 4;
const ENUMERATED = 9;
const UNSIGNED = 2;

function objects(): SimObject[] {
  return [
    { type: AO, instance: 1, properties: { 85: real(20) }, commandable: true }, // relinquish default 20.0
    { type: BO, instance: 2, properties: { 85: enumerated(0) }, commandable: true },
    { type: MSV, instance: 3, properties: { 85: [{ type: UNSIGNED, value: 1 }] }, commandable: true },
    { type: AV, instance: 4, properties: { 85: real(55) } }, // not commandable: the device refuses writes
  ];
}

function pipelineYaml(port: number): string {
  return `pipeline: { name: bms }
source:
  bacnet_ip:
    devices:
      - name: ahu1
        host: 127.0.0.1
        port: ${port}
        device_instance: 1201
        interval: 1h
        timeout: 500ms
        retries: 0
        points:
          - { name: valve, object_type: analog-output, instance: 1, access: read_write, write_priority: 8 }
          - { name: fan.cmd, object_type: binary-output, instance: 2, access: write, write_priority: 10 }
          - { name: mode, object_type: multi-state-value, instance: 3, access: write }
          - { name: locked.sp, object_type: analog-value, instance: 4, access: write, write_priority: 8 }
steps:
  - plugin: bacnet
  - plugin: json
publish: { uplink: cloud, topic: "t/{device}/{point}" }
`;
}

describe('WriteProperty against @bacnet-js/client, read back from its priority array', () => {
  let device: BacnetDevice;
  let run: CapturedPipeline;
  before(async () => {
    device = await startBacnetDevice(1201, objects());
    run = await startCapturedPipeline(pipelineYaml(device.port));
  });
  after(async () => {
    await run?.stop();
    await device?.close();
  });

  test('an analog output at priority 8: slot 8 holds the REAL, the present-value follows; relinquish empties it', async () => {
    await run.pipeline.write('ahu1', 'valve', 21.5);
    const w = device.writes.at(-1)!;
    assert.deepEqual([w.type, w.instance, w.property, w.priority], [AO, 1, 85, 8]);
    assert.deepEqual(device.priorityArray(AO, 1)[7], { type: REAL, value: 21.5 });
    assert.equal(device.priorityArray(AO, 1).filter((v) => v !== null).length, 1, 'only slot 8 is given');
    await run.pipeline.write('ahu1', 'valve', NaN);
    assert.equal(device.writes.at(-1)!.value[0]!.type, 0, 'a Null was written');
    assert.deepEqual(device.priorityArray(AO, 1), new Array(16).fill(null));
  });

  test('a binary output at priority 10 and a multi-state value at the default 16, each in its datatype', async () => {
    await run.pipeline.write('ahu1', 'fan.cmd', 1);
    assert.deepEqual(device.priorityArray(BO, 2)[9], { type: ENUMERATED, value: 1 });
    await run.pipeline.write('ahu1', 'mode', 3);
    assert.equal(device.writes.at(-1)!.priority, 16, 'no priority named: the device takes 16');
    assert.deepEqual(device.priorityArray(MSV, 3)[15], { type: UNSIGNED, value: 3 });
  });

  test('a write the device refuses (write-access-denied) is a refused write with its reason; nothing changes', async () => {
    await assert.rejects(run.pipeline.write('ahu1', 'locked.sp', 60), (e: Error & { code?: string; context?: Record<string, unknown> }) => {
      assert.equal(e.code, 'WG_ERR_DEVICE_REFUSED');
      assert.equal(e.context?.refusal, 'error');
      assert.match(e.message, /device ahu1 refused the write of point locked\.sp: analog-value 4 present-value: the device refused the write: error property write-access-denied/);
      return true;
    });
  });

  test('a lost write is not retried with retries: 0: unconfirmed, no answer; nothing was applied', async () => {
    device.dropWrites(1);
    const before = device.writes.length;
    await assert.rejects(run.pipeline.write('ahu1', 'valve', 33), (e: Error & { code?: string }) => e.code === 'WG_ERR_WRITE_UNCONFIRMED' && /no answer/.test(e.message));
    assert.equal(device.writes.length, before + 1);
    assert.equal(device.priorityArray(AO, 1)[7], null);
  });

  test('wasmgate write: confirmed by the device, read back; relinquish; a refusal exits 1 with its code', async () => {
    const fixture = await writeGatewayFixture(gatewayYaml('mqtt://127.0.0.1:1'), pipelineYaml(device.port));
    const cli = (args: string[]) => new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'write', '-c', fixture.gatewayFile, '--standalone', ...args]);
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', (code) => resolve({ code, out, err }));
    });
    try {
      const ok = await cli(['ahu1', 'valve', '42.25']);
      assert.equal(ok.code, 0, ok.err);
      assert.match(ok.out, /^wrote 42\.25 to valve of ahu1: confirmed by the device in \d+\.\d ms/);
      assert.deepEqual(device.priorityArray(AO, 1)[7], { type: REAL, value: 42.25 });
      const back = await cli(['ahu1', 'valve', 'relinquish', '--json']);
      assert.equal(back.code, 0, back.err);
      assert.deepEqual((({ ok, point, value, relinquish }) => ({ ok, point, value, relinquish }))(JSON.parse(back.out) as Record<string, unknown>), { ok: true, point: 'valve', value: null, relinquish: true });
      assert.equal(device.priorityArray(AO, 1)[7], null);
      const denied = await cli(['ahu1', 'locked.sp', '60', '--json']);
      assert.equal(denied.code, 1);
      const body = JSON.parse(denied.out) as Record<string, unknown>;
      assert.deepEqual([body.ok, body.code, body.refusal], [false, 'WG_ERR_DEVICE_REFUSED', 'error']);
      assert.match(String(body.detail), /error property write-access-denied/);
    } finally {
      await fixture.dispose();
    }
  });
});

describe('a BACnet write whose datagram is lost', () => {
  test('is sent again after the APDU timeout, up to the device\'s retries, and confirmed by the second', async () => {
    const device = await startBacnetDevice(1203, [{ type: AO, instance: 1, properties: { 85: real(20) }, commandable: true }]);
    const run = await startCapturedPipeline(pipelineYaml(device.port).replace('device_instance: 1201', 'device_instance: 1203').replace('retries: 0', 'retries: 2'));
    try {
      device.dropWrites(1);
      await run.pipeline.write('ahu1', 'valve', 12.5);
      assert.equal(device.writes.length, 2, 'the first was lost, the second answered');
      assert.deepEqual(device.priorityArray(AO, 1)[7], { type: REAL, value: 12.5 });
    } finally {
      await run.stop();
      await device.close();
    }
  });
});

describe('a rule writing a BACnet point: commands on fire, relinquishes on clear', () => {
  test('supply temperature above 30 commands the fan on at priority 9; back below, the slot is emptied and the fan falls back to its relinquish default', async () => {
    const AI = 0;
    const device = await startBacnetDevice(1202, [
      { type: AI, instance: 1, properties: { 85: real(22) } },
      { type: BO, instance: 2, properties: { 85: enumerated(0) }, commandable: true },
    ]);
    const run = await startCapturedPipeline(`pipeline: { name: bms }
source:
  bacnet_ip:
    devices:
      - name: ahu2
        host: 127.0.0.1
        port: ${device.port}
        device_instance: 1202
        interval: 100ms
        timeout: 500ms
        retries: 0
        points:
          - { name: supply.temp, object_type: analog-input, instance: 1 }
          - { name: fan.cmd, object_type: binary-output, instance: 2, access: write, write_priority: 9 }
steps:
  - plugin: bacnet
  - plugin: json
publish: { uplink: cloud, topic: "t/{device}/{point}" }
rules:
  - name: hot-supply
    when: supply.temp > 30
    actions: { alarm: false, write: [ { point: fan.cmd, value: true } ] }
`);
    try {
      const slot = () => device.priorityArray(BO, 2)[8];
      device.set(AI, 1, 85, real(35));
      await waitFor(() => slot() !== null, 10_000, () => `writes seen: ${JSON.stringify(device.writes)}`);
      assert.deepEqual(slot(), { type: ENUMERATED, value: 1 });
      assert.deepEqual(device.writes.map((w) => [w.type, w.instance, w.priority, w.value[0]!.type]), [[BO, 2, 9, ENUMERATED]]);
      device.set(AI, 1, 85, real(25));
      await waitFor(() => device.writes.length === 2, 10_000, () => `writes seen: ${JSON.stringify(device.writes)}`);
      // The clear's write-back: Null at priority 9, so the object is back on its relinquish default.
      assert.deepEqual([device.writes[1]!.priority, device.writes[1]!.value[0]!.type], [9, 0]);
      assert.deepEqual(device.priorityArray(BO, 2), new Array(16).fill(null));
      await waitFor(() => run.messages().filter((m) => m.rule === 'hot-supply').length === 2, 10_000);
      const audit = run.messages().filter((m) => m.rule === 'hot-supply').map((m) => [m.trigger, m.value, m.relinquish, m.outcome]);
      assert.deepEqual(audit, [['fire', 1, undefined, 'written'], ['clear', null, true, 'written']]);
    } finally {
      await run.stop();
      await device.close();
    }
  });
});
