// ABI 1.3 state handoff of the stateful built plugins (outlier, deadband, resample): an instance that
// saw the first half of a stream hands its snapshot to a fresh instance, which then gets the second
// half. Its output must equal what one instance that saw the whole stream gives for the second half
// (the unswapped run, in the same test), and a successor configured so that the old state would mean
// something else refuses it (WG_STATUS_REFUSED, with its reason), keeping its own configured state.
import test from 'node:test';
import assert from 'node:assert/strict';
import { PluginInstance } from '../../src/host/engine/plugin-instance.js';
import { decodeSamples, encodeSamples, type Sample } from '../../src/host/engine/sample-batch.js';
import { compileBuiltPlugin } from '../support/plugins.js';
import { manifestDefaults } from '../support/manifest-defaults.js';

const points = [
  { id: 0, name: 'boiler.temp', unit: 'degC' },
  { id: 1, name: 'line.pressure', unit: 'bar' },
];

function configured(plugin: string, settings: Record<string, unknown>, withDefaults: (s: Record<string, unknown>) => Record<string, unknown>) {
  const logs: string[] = [];
  const instance = new PluginInstance(compileBuiltPlugin(plugin), { onLog: (l) => logs.push(l.message) });
  instance.configure({ abi: 1, pipeline: 't', step: 1, plugin, with: withDefaults(settings), devices: [], points });
  return { instance, logs };
}

/** A noisy signal with spikes on both points, 1 s apart: what every filter here has something to say about. */
function stream(n: number): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const spike = i % 13 === 11 ? 40 : 0;
    out.push({ ts: 1_700_000_000_000 + i * 1000, value: 20 + ((i * 37) % 11) / 10 + spike, point: 0, quality: 0 });
    out.push({ ts: 1_700_000_000_000 + i * 1000, value: 5 + ((i * 17) % 7) / 100, point: 1, quality: 0 });
  }
  return out;
}

function feed(instance: PluginInstance, samples: Sample[]): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < samples.length; i += 6) out.push(...decodeSamples(instance.process(encodeSamples(samples.slice(i, i + 6)))));
  return out;
}

async function handoffEqualsUnswapped(plugin: string, settings: Record<string, unknown>, tail?: (i: PluginInstance) => Sample[]) {
  const { withDefaults } = await manifestDefaults(plugin);
  const samples = stream(60);
  const [first, second] = [samples.slice(0, 100), samples.slice(100)];
  const whole = configured(plugin, settings, withDefaults).instance;
  feed(whole, first);
  const expected = [...feed(whole, second), ...(tail ? tail(whole) : [])];
  const old = configured(plugin, settings, withDefaults).instance;
  feed(old, first);
  const successor = configured(plugin, settings, withDefaults).instance;
  assert.equal(successor.restore(old.snapshot()), true, successor.lastRefusal);
  const got = [...feed(successor, second), ...(tail ? tail(successor) : [])];
  assert.ok(expected.length > 0);
  assert.deepEqual(got, expected);
  // And without the handoff the output differs: the state is what made it equal.
  const fresh = configured(plugin, settings, withDefaults).instance;
  assert.notDeepEqual([...feed(fresh, second), ...(tail ? tail(fresh) : [])], expected);
}

test('outlier (sigma): the successor judges against the handed-over windows exactly as the unswapped instance', async () => {
  await handoffEqualsUnswapped('outlier', { method: 'sigma', window: 20, threshold: 3, min_samples: 5 });
});

test('outlier (hampel): the sorted windows go across too', async () => {
  await handoffEqualsUnswapped('outlier', { method: 'hampel', window: 15, threshold: 3, min_samples: 5 });
});

test('deadband: references (last emitted, heartbeat times) go across', async () => {
  await handoffEqualsUnswapped('deadband', { absolute: 0.35, heartbeat: 20000 });
});

test('resample: open buckets and their sums go across; the shutdown flush closes them the same', async () => {
  await handoffEqualsUnswapped('resample', { bucket: 7000, grace: 0, aggregates: ['mean', 'min', 'max', 'count', 'sum'] }, (i) => decodeSamples(i.tick(Infinity)));
});

test('a successor whose settings make the old state meaningless refuses it and says why', async () => {
  const outlier = await manifestDefaults('outlier');
  const old = configured('outlier', { method: 'sigma', window: 20 }, outlier.withDefaults).instance;
  feed(old, stream(30));
  const other = configured('outlier', { method: 'sigma', window: 10 }, outlier.withDefaults);
  assert.equal(other.instance.restore(old.snapshot()), false);
  assert.match(other.instance.lastRefusal, /^cannot restore windows of another method or length at point 0$/);

  const resample = await manifestDefaults('resample');
  const deadband = await manifestDefaults('deadband');
  const bucket = configured('resample', { bucket: 1000 }, resample.withDefaults).instance;
  const band = configured('deadband', {}, deadband.withDefaults).instance;
  // Another plugin's state: the format tag tells.
  assert.equal(band.restore(bucket.snapshot()), false);
  assert.match(band.lastRefusal, /^cannot restore a state of another format, number /);
  assert.equal(bucket.restore(new Uint8Array([1, 2, 3])), false);
  assert.match(bucket.lastRefusal, /^cannot restore not a wasmgate state blob$/);
});
