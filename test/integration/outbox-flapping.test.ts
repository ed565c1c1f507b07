/**
 * A flapping link: mosquitto stopped and started again every few seconds under steady polling, the
 * real daemon in a child process. Nothing is lost (every poll the PLC answered arrives at an
 * independent subscriber, test/support/counting-plc.ts tells which) and there is no reconnect storm:
 * the uplink's reconnection attempts, read from `wasmgate status --json` over the control socket, stay
 * within what the configured back-off allows for the outages the test made.
 *
 * Length: 40 s of flapping (180 s in the soak tier, `WASMGATE_SOAK=1`), outages of 1.5–3.5 s and
 * up-times of 1.5–3 s, about ten outages. Each outage is longer than the back-off's climb to its
 * ceiling (50 + 100 + 200 + 400 ms), so the bound below is tested at the ceiling and not only on the
 * climb; each up-time is longer than the sink's "connection stable" time (2 x max = 1 s), so the
 * back-off starts from `min` again at each outage; ten outages land at different moments of the
 * sender's window and of the subscriber's session, and the default run stays under a minute.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGatewayProcess } from '../support/gateway-process.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { needs } from '../support/tools.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { countingPipeline, firstOutOfOrder, missingNumbers, readingsOf, startCountingPlc } from '../support/counting-plc.js';
import { seededRandom, soakTier } from '../support/soak.js';
import { runWasmgate } from '../support/wasmgate-cli.js';
import type { ControlStatus } from '../../src/host/control/gateway-control.js';

const INTERVAL_MS = 50;
const FLAPPING_MS = soakTier() ? 180_000 : 40_000;
/** The uplink's back-off, as gatewayYaml writes it (`reconnect: { min: 50ms, max: 500ms }`). */
const RECONNECT = { minMs: 50, maxMs: 500 };

/**
 * The most reconnection attempts an outage of `outageMs` can cost: MQTT.js tries again `d_k` after
 * the k-th failure, d_k = min(max, min * 2^(k-1)); the attempt made at or after the broker is back
 * succeeds. So it is the first k whose delays add up to at least the outage.
 */
function attemptsAllowed(outageMs: number, backoff = RECONNECT): number {
  let elapsed = 0;
  let delay = backoff.minMs;
  for (let k = 1; ; k++) {
    elapsed += delay;
    if (elapsed >= outageMs) return k;
    delay = Math.min(backoff.maxMs, delay * 2);
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function uplinkStatus(gatewayFile: string): Promise<ControlStatus['uplinks'][number]> {
  const run = await runWasmgate(['status', '--config', gatewayFile, '--json']);
  assert.equal(run.code, 0, run.stderr);
  const uplink = (JSON.parse(run.stdout) as ControlStatus).uplinks.find((u) => u.name === 'cloud');
  assert.ok(uplink, run.stdout);
  return uplink;
}

test('the bound on attempts follows the back-off', () => {
  // Independent figures, by hand: attempts at 50, 150, 350, 750, 1250, 1750 ms after the close.
  assert.deepEqual([1, 50, 51, 150, 151, 750, 751, 1250, 1251, 1750].map((d) => attemptsAllowed(d)), [1, 1, 2, 2, 3, 4, 5, 5, 6, 6]);
});

test(`broker up and down every few seconds for ${FLAPPING_MS / 1000} s: every reading arrives, in order, and reconnects stay within the back-off`, { ...needs('mosquitto', !!mosquittoPath()), timeout: FLAPPING_MS + 90_000 }, async (t) => {
  const { random, seed } = seededRandom();
  t.diagnostic(`seed ${seed} (WASMGATE_SEED=${seed} replays these outages)`);
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const plc = await startCountingPlc();
  t.after(() => plc.close());
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-flapping', { logLevel: 'info' }), countingPipeline(plc.port, INTERVAL_MS));
  t.after(() => fixture.dispose());
  const subscriber = await subscribe(broker.url, 'plant/#', { persistentId: 'flapping-subscriber' });
  t.after(() => subscriber.close());

  const gateway = startGatewayProcess(fixture.gatewayFile);
  t.after(() => gateway.stop());
  await gateway.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  await subscriber.waitFor(5, 20_000);
  const before = await uplinkStatus(fixture.gatewayFile);

  const outagesMs: number[] = [];
  const flappingUntil = performance.now() + FLAPPING_MS;
  while (performance.now() < flappingUntil) {
    const down = performance.now();
    await broker.stop();
    await pause(1_500 + random() * 2_000);
    await broker.start();
    // From the moment the broker was told to stop (the gateway's link cannot drop earlier) to the
    // moment it accepted connections again (it cannot be refused later): at least the outage the
    // gateway saw.
    outagesMs.push(performance.now() - down);
    await pause(1_500 + random() * 1_500);
  }
  const lastTaken = plc.last();

  const expected = Array.from({ length: lastTaken }, (_, i) => i + 1);
  await subscriber.waitUntil((m) => missingNumbers(expected, readingsOf(m)).length === 0, `arrival of all ${lastTaken} readings taken`, 30_000).catch((err: Error) => {
    const missing = missingNumbers(expected, readingsOf(subscriber.messages));
    throw new Error(`${err.message}; missing poll numbers ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', ...' : ''}; log: ${gateway.lines.filter((l) => /outbox|error|warn/.test(l)).slice(-8).join('\n')}`);
  });
  const readings = readingsOf(subscriber.messages);
  assert.equal(readings.every((r) => r.quality === 'good'), true, 'every poll was answered');
  assert.equal(firstOutOfOrder(readings), undefined, 'readings first arrive in the order they were taken');

  const after = await uplinkStatus(fixture.gatewayFile);
  const attempts = after.reconnects - before.reconnects;
  const allowed = outagesMs.reduce((sum, d) => sum + attemptsAllowed(d), 0);
  const storm = outagesMs.reduce((sum, d) => sum + Math.floor(d / RECONNECT.minMs), 0);
  t.diagnostic(`${outagesMs.length} outages (${outagesMs.map((d) => Math.round(d)).join(', ')} ms); ${attempts} reconnection attempts, at most ${allowed} allowed by the back-off (a fixed ${RECONNECT.minMs} ms retry would make about ${storm}); ${lastTaken} readings, ${readings.length - new Set(readings.map((r) => r.value)).size} duplicates`);
  assert.ok(attempts >= outagesMs.length, `at least one attempt per outage (${attempts} for ${outagesMs.length})`);
  assert.ok(attempts <= allowed, `${attempts} reconnection attempts for ${outagesMs.length} outages; the back-off allows at most ${allowed}`);
  assert.equal(after.state, 'connected');
});
