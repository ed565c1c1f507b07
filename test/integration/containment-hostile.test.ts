// Regression tests from a hostile review of issue 6's containment. Each names what used to break: the
// daemon ended, a pipeline stopped moving for good, or the cap on plugin memory was bypassed. Each runs
// its hostile fixture next to a healthy pipeline on the same PLC and broker and counts the healthy
// pipeline's messages over a window.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import type { TestBroker } from '../support/test-broker.js';
import { keepsItsRate, placeWatPlugin, startHostileGateway } from '../support/hostile-gateway.js';
import { waitFor } from '../support/wait.js';

let broker: TestBroker;
before(async () => {
  broker = mosquittoPath() ? await startMosquitto() : await startAedes();
});
after(() => broker?.dispose());

const WINDOW_MS = 2000;

test('a decoder whose request frame is too large for the ingress ring fails its exchange; the daemon keeps running', async (t) => {
  const gw = await startHostileGateway({
    brokerUrl: broker.url,
    steps: '  - path: ./polling-huge-request.wasm\n  - plugin: json',
    place: async (dir) => { await placeWatPlugin(dir, 'polling-huge-request', 'decoder'); },
  });
  t.after(() => gw.dispose());
  const hostile = () => gw.gateway.status().pipelines.find((p) => p.name === 'hostile')!;
  await waitFor(() => (hostile().devices[0]?.pluginErrors ?? 0) >= 3, 10_000, () => JSON.stringify(hostile().devices[0]));
  const delivered = await gw.healthyCountOver(WINDOW_MS);
  assert.ok(delivered >= keepsItsRate(WINDOW_MS), `healthy pipeline delivered ${delivered} messages in ${WINDOW_MS} ms`);
  assert.equal(hostile().devices[0]!.requests, 0, 'nothing that large was sent to the device');
  assert.ok((hostile().polling?.errors ?? 0) >= 3, 'the refusals are counted on the polling instance');
  const refusal = gw.logs.find((l) => l.code === 'WG_ERR_PLUGIN_STATUS' && l.pipeline === 'hostile');
  assert.equal(refusal?.plugin, 'polling-huge-request');
  assert.match(refusal!.msg, /wg_request/);
});

for (const stem of ['encoder-overrun', 'encoder-huge-message']) {
  test(`an encoder with a bad message batch (${stem}) has its batch dropped and counted, not the worker crashed`, async (t) => {
    const gw = await startHostileGateway({
      brokerUrl: broker.url,
      steps: `  - plugin: modbus\n  - path: ./${stem}.wasm\n`,
      place: async (dir) => { await placeWatPlugin(dir, stem, 'encoder'); },
    });
    t.after(() => gw.dispose());
    const hostile = () => gw.gateway.status().pipelines.find((p) => p.name === 'hostile')!;
    await waitFor(() => (hostile().steps[1]?.errors ?? 0) >= 5, 10_000, () => JSON.stringify(hostile()));
    const delivered = await gw.healthyCountOver(WINDOW_MS);
    assert.ok(delivered >= keepsItsRate(WINDOW_MS), `healthy pipeline delivered ${delivered} messages in ${WINDOW_MS} ms`);
    assert.equal(hostile().workerRestarts, 0);
    assert.ok(hostile().batchesDropped >= 5);
  });
}
