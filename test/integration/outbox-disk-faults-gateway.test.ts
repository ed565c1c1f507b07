/**
 * The real daemon with its data_dir on storage that fails: a small tmpfs that fills up (a real
 * ENOSPC), and one remounted read-only (a real EROFS), test/support/small-file-system.ts. In both the
 * gateway keeps polling, says WG_ERR_OUTBOX_MEMORY_FALLBACK in its log and in `wasmgate status`,
 * delivers everything once the broker is up, and goes back to the disk (WG_ERR_OUTBOX_DURABLE_AGAIN)
 * once the disk has room or is writable again. Which readings were taken is told by the PLC
 * (test/support/counting-plc.ts); nothing is killed here, so every one of them must arrive.
 *
 * Mounting needs root (or CAP_SYS_ADMIN); without it the test is skipped with the reason, and under
 * CI (which runs as root) it fails instead. The durable store is tried again every 30 s during an
 * episode (fallback-outbox.ts), which makes each case last about 40 s: the two run side by side.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { needs } from '../support/tools.js';
import { writeGatewayFixture } from '../support/gateway-fixture.js';
import { missingNumbers, readingsOf, startCountingPlc, type CountingPlc } from '../support/counting-plc.js';
import { mountSmallFileSystem, type SmallFileSystem } from '../support/small-file-system.js';
import { runWasmgate } from '../support/wasmgate-cli.js';
import { waitFor } from '../support/wait.js';
import type { ControlStatus } from '../../src/host/control/gateway-control.js';
import type { OutboxStatus } from '../../src/host/outbox/gateway-outbox.js';

const INTERVAL_MS = 50;
/** Points besides the poll counter: each poll makes 1 + BLOCK messages, so a little disk fills in seconds. */
const BLOCK = 40;
/** Room for SQLite's WAL to grow to its checkpoint (1000 pages, 4 MiB) and more, once the ballast is gone. */
const FS_BYTES = 8 << 20;
/** fallback-outbox.ts's DEFAULT_RETRY_MS, and some slack for the append that follows it. */
const RETRY_WITHIN_MS = 30_000 + 10_000;

function canMount(): boolean {
  const fs = mountSmallFileSystem(64 * 1024);
  if (typeof fs === 'string') return false;
  fs.unmount();
  return true;
}
const gate = { ...needs('mosquitto', !!mosquittoPath()), ...needs('a tmpfs mount (root or CAP_SYS_ADMIN)', canMount()) };

function files(dataDir: string, brokerUrl: string, plcPort: number): [string, string] {
  return [`gateway:
  id: gw-disk
  data_dir: ${dataDir}
  log: { level: info, format: json }
control: { socket: ./control.sock }
uplinks:
  cloud:
    mqtt: { url: ${brokerUrl}, qos: 1, reconnect: { min: 50ms, max: 500ms } }
pipelines: [./pipeline.yaml]
`, `pipeline: { name: plant }
source:
  modbus_tcp:
    devices:
      - name: plc
        host: 127.0.0.1
        port: ${plcPort}
        interval: ${INTERVAL_MS}ms
        timeout: 2s
        retries: 0
        points:
          - { name: polls, function: 3, address: 0, type: uint32 }
          - { name: "r{index}", function: 3, registers: 2..${BLOCK + 1}, type: uint16 }
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "plant/{point}" }
`];
}

async function outboxStatus(gatewayFile: string): Promise<OutboxStatus> {
  const run = await runWasmgate(['status', '--config', gatewayFile, '--json']);
  assert.equal(run.code, 0, run.stderr);
  const outbox = (JSON.parse(run.stdout) as ControlStatus).uplinks.find((u) => u.name === 'cloud')?.outbox;
  assert.ok(outbox, run.stdout);
  return outbox;
}

interface Setup {
  /** Cleanups, run last first in one hook (node:test runs `t.after` hooks in the order added, and the file system must be unmounted after the gateway stopped). */
  cleanups: Array<() => unknown>;
  fs: SmallFileSystem;
  plc: CountingPlc;
  gatewayFile: string;
  dataDir: string;
  broker: Awaited<ReturnType<typeof startMosquitto>>;
  subscriber: Awaited<ReturnType<typeof subscribe>>;
}

/** A tmpfs with data_dir on it, the PLC, mosquitto stopped (an outage from the start) and a subscriber with a session that outlives it. */
async function setUp(t: TestContext, name: string): Promise<Setup> {
  const cleanups: Array<() => unknown> = [];
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const fs = mountSmallFileSystem(FS_BYTES);
  assert.ok(typeof fs !== 'string', String(fs));
  cleanups.push(() => fs.unmount());
  const dataDir = join(fs.path, 'data');
  mkdirSync(dataDir);
  const broker = await startMosquitto();
  cleanups.push(() => broker.dispose());
  const plc = await startCountingPlc();
  cleanups.push(() => plc.close());
  const [gatewayYaml, pipelineYaml] = files(dataDir, broker.url, plc.port);
  const fixture = await writeGatewayFixture(gatewayYaml, pipelineYaml);
  cleanups.push(() => fixture.dispose());
  const subscriber = await subscribe(broker.url, 'plant/polls', { persistentId: `${name}-subscriber` });
  cleanups.push(() => subscriber.close());
  await broker.stop();
  return { cleanups, fs, plc, gatewayFile: fixture.gatewayFile, dataDir, broker, subscriber };
}

async function started(s: Setup): Promise<GatewayProcess> {
  const gateway = startGatewayProcess(s.gatewayFile);
  s.cleanups.push(() => gateway.stop());
  await gateway.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  return gateway;
}

const logged = (gateway: GatewayProcess, code: string) => gateway.lines.filter((l) => l.includes(`"code":"${code}"`));

/** Every poll the PLC answered up to now arrives at the subscriber (the broker is up). */
async function everyReadingArrives(s: Setup, gateway: GatewayProcess, timeoutMs: number): Promise<number> {
  const expected = Array.from({ length: s.plc.last() }, (_, i) => i + 1);
  await s.subscriber.waitUntil((m) => missingNumbers(expected, readingsOf(m)).length === 0, `arrival of all ${expected.length} readings taken`, timeoutMs).catch((err: Error) => {
    const missing = missingNumbers(expected, readingsOf(s.subscriber.messages));
    throw new Error(`${err.message}; missing poll numbers ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', ...' : ''}; log: ${gateway.lines.filter((l) => /outbox|error|warn/.test(l)).slice(-8).join('\n')}`);
  });
  return expected.length;
}

describe('a gateway whose data_dir fails', { ...gate, concurrency: 2 }, () => {
  test('disk full: polling goes on in memory (said in the log and in status), everything is delivered, and the outbox is durable again once there is room', { timeout: 110_000 }, async (t) => {
    const s = await setUp(t, 'full');
    const gateway = await started(s);
    // What is left of the file system after the outbox was made: a few hundred KiB to fill.
    const ballast = join(s.fs.path, 'ballast');
    writeFileSync(ballast, Buffer.alloc(FS_BYTES - 384 * 1024));
    await gateway.waitForLine((l) => l.includes('WG_ERR_OUTBOX_MEMORY_FALLBACK'), 'WG_ERR_OUTBOX_MEMORY_FALLBACK in the log', 30_000);
    const fellBackAt = performance.now();
    assert.match(logged(gateway, 'WG_ERR_OUTBOX_MEMORY_FALLBACK')[0]!, /WG_ERR_OUTBOX_DISK_FULL/, 'the log says why: the disk is full');
    const inMemory = await outboxStatus(s.gatewayFile);
    assert.deepEqual({ durable: inMemory.durable, code: inMemory.storageProblem?.code, cause: inMemory.storageProblem?.cause }, { durable: false, code: 'WG_ERR_OUTBOX_MEMORY_FALLBACK', cause: 'WG_ERR_OUTBOX_DISK_FULL' });
    const atFallback = s.plc.last();
    await waitFor(() => s.plc.last() >= atFallback + 20, 10_000, () => `the PLC answered ${s.plc.last() - atFallback} polls since`);

    await s.broker.start();
    const delivered = await everyReadingArrives(s, gateway, 30_000);
    // Until the first retry (30 s after the fallback) the episode cannot end; a retry may find room
    // freed by the deliveries' acks, so the checks below hold only for a run that got here before it.
    const beforeRetry = performance.now() - fellBackAt < 29_000;
    if (beforeRetry) assert.equal(logged(gateway, 'WG_ERR_OUTBOX_DURABLE_AGAIN').length, 0, 'still in memory: the disk has no room');
    else t.diagnostic('the durable store was retried before the ballast went: the episode checks are left out');

    rmSync(ballast);
    await gateway.waitForLine((l) => l.includes('WG_ERR_OUTBOX_DURABLE_AGAIN'), 'WG_ERR_OUTBOX_DURABLE_AGAIN in the log', RETRY_WITHIN_MS);
    const durable = await outboxStatus(s.gatewayFile);
    assert.equal(durable.durable, true);
    assert.equal(durable.storageProblem, undefined);
    if (beforeRetry) assert.equal(logged(gateway, 'WG_ERR_OUTBOX_MEMORY_FALLBACK').length, 1, 'said once for the episode');
    const total = await everyReadingArrives(s, gateway, 30_000);
    t.diagnostic(`${delivered} readings delivered while in memory, ${total} in all; ${atFallback} polls before the disk filled`);
  });

  test('read-only file system: the gateway starts in memory (said in the log and in status), delivers what it takes, and is durable again once it is writable, with the backlog the disk held', { timeout: 110_000 }, async (t) => {
    const s = await setUp(t, 'ro');
    // A backlog on disk first: a run during the outage, stopped (what it held stays in the outbox).
    const first = await started(s);
    await waitFor(() => s.plc.last() >= 20, 10_000);
    assert.equal(await first.stop(), 0);
    const onDisk = s.plc.last();
    s.fs.remount('ro');

    const gateway = await started(s);
    await gateway.waitForLine((l) => l.includes('WG_ERR_OUTBOX_MEMORY_FALLBACK'), 'WG_ERR_OUTBOX_MEMORY_FALLBACK in the log', 10_000);
    assert.match(logged(gateway, 'WG_ERR_OUTBOX_MEMORY_FALLBACK')[0]!, /WG_ERR_OUTBOX_READ_ONLY/, 'the log says why: read-only');
    const inMemory = await outboxStatus(s.gatewayFile);
    assert.deepEqual({ durable: inMemory.durable, code: inMemory.storageProblem?.code, cause: inMemory.storageProblem?.cause }, { durable: false, code: 'WG_ERR_OUTBOX_MEMORY_FALLBACK', cause: 'WG_ERR_OUTBOX_READ_ONLY' });

    await s.broker.start();
    // What this run took arrives from memory; the backlog of the first run waits on the disk it cannot read.
    await waitFor(() => s.plc.last() >= onDisk + 20, 10_000);
    const fromMemory = Array.from({ length: s.plc.last() - onDisk }, (_, i) => onDisk + 1 + i);
    await s.subscriber.waitUntil((m) => missingNumbers(fromMemory, readingsOf(m)).length === 0, 'the readings of the read-only run', 30_000);

    s.fs.remount('rw');
    await gateway.waitForLine((l) => l.includes('WG_ERR_OUTBOX_DURABLE_AGAIN'), 'WG_ERR_OUTBOX_DURABLE_AGAIN in the log', RETRY_WITHIN_MS);
    assert.equal((await outboxStatus(s.gatewayFile)).durable, true);
    const sinceReadOnly = Array.from({ length: s.plc.last() - onDisk }, (_, i) => onDisk + 1 + i);
    await s.subscriber.waitUntil((m) => missingNumbers(sinceReadOnly, readingsOf(m)).length === 0, 'the readings since the read-only start', 30_000);

    // And the backlog the disk held all along, below the seqs memory handed out meanwhile (this
    // test found the sender not serving it until a restart; fixed on main, 5ac0144).
    const total = await everyReadingArrives(s, gateway, 15_000);
    t.diagnostic(`${onDisk} readings on disk before the read-only start, ${total} in all`);
  });
});
