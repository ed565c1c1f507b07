// Regression: when a step trapped, the chain replaced its instance from inside the trap handler; a
// fresh instance whose wg_configure failed (trap-then-refuse-configure.wat refuses in odd seconds of
// the wall clock, as a licence or clock check might) threw out of the batch and crashed the pipeline's
// worker, and the fresh worker got the same batch again. The wall clock is stubbed here so the
// fixture's odd and even seconds come when the test says.
import test from 'node:test';
import assert from 'node:assert/strict';
import { StepChain } from '../../src/host/pipeline/chain.js';
import { v8Engine } from '../../src/host/engine/engine.js';
import { watBytes, watFixturePath } from '../support/plugins.js';

function compile(name: string) {
  return v8Engine.compile(watBytes(name), name, watFixturePath(name));
}

test('a fresh instance that fails to configure after a trap drops the batch and is tried again at the next one', (t) => {
  let wall = 2_000;
  t.mock.method(Date, 'now', () => wall);
  const logs: string[] = [];
  const chain = new StepChain(
    [
      { plugin: compile('polling-trap-in-framing'), kind: 'decoder', with: {} },
      { plugin: compile('trap-then-refuse-configure'), kind: 'transform', with: {} },
      { plugin: compile('encoder-overrun'), kind: 'encoder', with: {} },
    ],
    { pipeline: 'p', devices: [], points: [] },
    { log: (_level, message) => logs.push(message) },
  );
  chain.configure();
  wall = 3_000; // an odd second: the replacement's wg_configure traps
  assert.equal(chain.process(new Uint8Array(0), 0), null, 'the batch is dropped, not thrown out of the worker');
  assert.equal(chain.counters[1]!.traps, 1);
  assert.equal(chain.counters[1]!.reinstantiations, 0);
  assert.ok(logs.some((m) => /cannot replace the instance that trapped: .*wg_configure/.test(m)), logs.join('\n'));
  wall = 4_000; // even: the next batch finds the poisoned instance, and its replacement configures
  assert.equal(chain.process(new Uint8Array(0), 0), null);
  assert.equal(chain.counters[1]!.traps, 2);
  assert.equal(chain.counters[1]!.reinstantiations, 1);
  assert.equal(chain.batchesDropped, 2);
});
