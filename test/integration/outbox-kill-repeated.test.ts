/**
 * kill -9 of the real daemon at random moments of a broker outage, again and again, each time
 * restarted on the same data_dir; then the broker comes back. At the subscriber, every reading the
 * gateway took arrives, except at most those of the last moments before each kill (not yet appended
 * to the outbox, so never accepted), in the order taken, with the time it was taken.
 *
 * Which readings were taken is told by the PLC, not by the gateway: its holding registers count the
 * polls (test/support/counting-plc.ts), so each reading carries a number no other one has, and the
 * PLC records when it answered each. A reading counts as accepted when the PLC answered it more than
 * ACCEPTED_WITHIN_MS before the kill (a poll answered between the SIGKILL and the exit never was); a poll's way from the PLC to the outbox (response, ring, worker,
 * one turn of the event loop) takes a few milliseconds, so the margin is wide.
 *
 * Kills: 4 in the default suite, 20 in the soak tier (`WASMGATE_SOAK=1`, README "Tests"). One kill
 * in four lands at a random moment after the spawn (the start itself: opening the outbox, its quick
 * check, the first appends); the others at a random moment of polling. The seed is printed; set
 * `WASMGATE_SEED` to replay a run's moments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { needs } from '../support/tools.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { countingPipeline, firstOutOfOrder, missingNumbers, readingsOf, startCountingPlc } from '../support/counting-plc.js';
import { seededRandom, soakTier } from '../support/soak.js';

const INTERVAL_MS = 50;
const KILLS = soakTier() ? 20 : 4;
const ACCEPTED_WITHIN_MS = 500;
/** The device's `timeout`: a reading's `ts` and the PLC's answer lie within one request's time of each other. */
const POLL_TIMEOUT_MS = 2_000;

function spawned(file: string): GatewayProcess {
  return startGatewayProcess(file);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test(`kill -9 at ${KILLS} random moments of a broker outage: every reading the outbox accepted arrives, in order, with the time it was taken`, { ...needs('mosquitto', !!mosquittoPath()), timeout: 60_000 + KILLS * 15_000 }, async (t) => {
  const { random, seed } = seededRandom();
  t.diagnostic(`seed ${seed} (WASMGATE_SEED=${seed} replays these kill moments)`);
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const plc = await startCountingPlc();
  t.after(() => plc.close());
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-kills', { logLevel: 'info' }), countingPipeline(plc.port, INTERVAL_MS));
  t.after(() => fixture.dispose());
  const subscriber = await subscribe(broker.url, 'plant/#', { persistentId: 'kills-subscriber' });
  t.after(() => subscriber.close());

  let gateway = spawned(fixture.gatewayFile);
  await gateway.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  await subscriber.waitFor(5, 20_000);
  await broker.stop();
  const outageFrom = Date.now();

  /** Each kill: when SIGKILL was sent, and when the process was gone (a poll may be answered in between). */
  const killedAt: number[] = [];
  const goneAt: number[] = [];
  for (let kill = 0; kill < KILLS; kill++) {
    if (kill % 4 === 3) {
      await pause(random() * 3_000); // anywhere in the start, or just after it
    } else {
      await gateway.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
      await pause(200 + random() * 2_000);
    }
    killedAt.push(Date.now());
    await gateway.kill();
    goneAt.push(Date.now());
    gateway = spawned(fixture.gatewayFile);
  }
  t.after(() => gateway.stop());
  await gateway.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  await pause(1_000); // a second of readings by the last run, during the outage too
  await broker.start();

  // Every poll answered so far, but those answered in the last moments before a kill.
  const lastTaken = plc.last();
  const mayBeLost = (at: number) => killedAt.some((k, i) => at > k - ACCEPTED_WITHIN_MS && at <= goneAt[i]!);
  const expected = [...plc.answeredAt].filter(([n, at]) => n <= lastTaken && !mayBeLost(at)).map(([n]) => n);
  await subscriber.waitUntil((m) => missingNumbers(expected, readingsOf(m)).length === 0, `arrival of all ${expected.length} readings taken`, 30_000).catch((err: Error) => {
    const missing = missingNumbers(expected, readingsOf(subscriber.messages));
    throw new Error(`${err.message}; missing poll numbers ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', ...' : ''} (answered at ${missing.slice(0, 5).map((n) => new Date(plc.answeredAt.get(n)!).toISOString()).join(', ')}); kills at ${killedAt.map((k) => new Date(k).toISOString()).join(', ')}; log: ${gateway.lines.filter((l) => /outbox|error|warn/.test(l)).slice(-8).join('\n')}`);
  });

  const readings = readingsOf(subscriber.messages);
  assert.equal(readings.every((r) => r.quality === 'good'), true, 'every poll was answered');
  assert.equal(firstOutOfOrder(readings), undefined, 'readings first arrive in the order they were taken');
  // Original timestamps: each reading's ts is when the gateway took it, within one request of the
  // PLC's answer, not when it was sent again after a restart or the broker's return.
  const offTime = readings.filter((r) => r.value !== null && Math.abs(r.ts - plc.answeredAt.get(r.value)!) > POLL_TIMEOUT_MS);
  assert.deepEqual(offTime.slice(0, 5), [], 'each reading keeps the time it was taken');
  // The point of the test: readings taken during the outage by runs that were killed afterwards.
  const killedRuns = expected.filter((n) => plc.answeredAt.get(n)! > outageFrom && plc.answeredAt.get(n)! < killedAt.at(-1)!);
  assert.ok(killedRuns.length > 0, 'some readings of the outage were taken by runs that were killed');
  const lost = [...plc.answeredAt].filter(([n, at]) => n <= lastTaken && mayBeLost(at)).map(([n]) => n);
  t.diagnostic(`${KILLS} kills; ${expected.length} readings expected and arrived, ${killedRuns.length} of them taken during the outage by runs killed later; ${missingNumbers(lost, readings).length} of the ${lost.length} taken within ${ACCEPTED_WITHIN_MS} ms before a kill did not arrive; ${readings.length - new Set(readings.map((r) => r.value)).size} duplicates (at least once)`);
});
