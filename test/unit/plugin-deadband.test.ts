// deadband: report by exception with heartbeats. Expected values are worked out by hand in each test,
// and for random streams by a plain reference implementation written here from the manifest's rules
// (text compared as strings, not hashes).
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PluginInstance } from '../../src/host/engine/plugin-instance.js';
import { decodeSamples, encodeSamples, type Sample } from '../../src/host/engine/sample-batch.js';
import { isWgError } from '../../src/host/errors.js';
import { compileBuiltPlugin } from '../support/plugins.js';
import { manifestDefaults } from '../support/manifest-defaults.js';

const points = [
  { id: 0, name: 'tank.level', unit: 'm' },
  { id: 1, name: 'pump.running', unit: '' },
  { id: 2, name: 'batch.id', unit: '' },
];
const compiled = compileBuiltPlugin('deadband');
/** `with` as the host hands it over: checked against the manifest, defaults filled in. */
const { manifest, withDefaults } = await manifestDefaults('deadband');

/** `raw`: the settings as given over the manifest's defaults, unchecked (a document the host did not make). */
function deadband(settings: Record<string, unknown> = {}, raw = false) {
  const instance = new PluginInstance(compiled);
  instance.configure({ abi: 1, pipeline: 't', step: 3, plugin: 'deadband', with: raw ? { ...withDefaults({}), ...settings } : withDefaults(settings), devices: [], points });
  return instance;
}

const num = (ts: number, value: number, point = 0, quality = 0): Sample => ({ ts, value, point, quality });
const bool = (ts: number, value: number, point = 1, quality = 0): Sample => ({ ts, value, point, quality, type: 1 });
const text = (ts: number, value: string, point = 2, quality = 0): Sample => ({ ts, value, point, quality });
/** Runs one batch and returns what came out, as [ts, value, point, quality] rows. */
function run(instance: PluginInstance, samples: Sample[]): [number, number | string, number, number][] {
  return decodeSamples(instance.process(encodeSamples(samples))).map((s) => [s.ts, s.value, s.point, s.quality]);
}
/** What a tick emitted; nothing is 0 bytes (the ABI's "no batch"), never an empty batch. */
function ticked(instance: PluginInstance, now: number): Sample[] {
  const out = instance.tick(now);
  return out.byteLength === 0 ? [] : decodeSamples(out);
}
function tick(instance: PluginInstance, now: number): [number, number | string, number, number, number | undefined][] {
  return ticked(instance, now).map((s) => [s.ts, s.value, s.point, s.quality, s.type]);
}

// ---------------------------------------------------------------- known vectors

test('absolute 0.1: 1.0, 1.05, 1.2, 1.21 emit 1.0 and 1.2', () => {
  const instance = deadband({ absolute: 0.1 });
  const out = run(instance, [num(1, 1.0), num(2, 1.05), num(3, 1.2), num(4, 1.21)]);
  assert.deepEqual(out, [[1, 1.0, 0, 0], [3, 1.2, 0, 0]]);
  assert.deepEqual(instance.stats(), { suppressed: 2, heartbeats: 0, clock_steps: 0 });
});

test('percent of the last emitted value: 1 % of 100 is 1, then 1 % of 101.2 is 1.012', () => {
  const instance = deadband({ percent: 1 });
  // 100.9 is 0.9 away (kept back); 101.2 is 1.2 away (out); 102.2 is 1.0 from 101.2 (< 1.012); 102.3 is 1.1.
  const out = run(instance, [num(1, 100), num(2, 100.9), num(3, 101.2), num(4, 102.2), num(5, 102.3)]);
  assert.deepEqual(out.map((r) => r[1]), [100, 101.2, 102.3]);
});

test('both bands: either one is enough', () => {
  const instance = deadband({ absolute: 0.5, percent: 10 });
  // From 100: the absolute band (0.5) triggers at 100.6, long before 10 % (10) would.
  // From 0.001 the percent band is 0.0001: 0.0012 is 0.0002 away, out although far inside 0.5.
  const out = run(instance, [num(1, 100), num(2, 100.4), num(3, 100.6), num(4, 0.001), num(5, 0.0012), num(6, 0.00121)]);
  assert.deepEqual(out.map((r) => r[1]), [100, 100.6, 0.001, 0.0012]);
});

test('the defaults emit every change and suppress exact repeats only', () => {
  const instance = deadband();
  const out = run(instance, [num(1, 5), num(2, 5), num(3, 5.000001), num(4, 5.000001), num(5, -0)]);
  assert.deepEqual(out.map((r) => r[1]), [5, 5.000001, -0]);
  const unchanged = encodeSamples([num(6, 1), num(6, 0, 1), text(6, 'x')]);
  assert.equal(deadband().process(unchanged), unchanged, 'all emitted: the host skips the copy');
});

test('the first sample of each point is always emitted, even equal to another point', () => {
  const instance = deadband({ absolute: 100 });
  assert.deepEqual(run(instance, [num(1, 7, 0), num(1, 7, 1), num(2, 7, 0)]), [[1, 7, 0, 0], [1, 7, 1, 0]]);
});

test('a quality change always emits: a point going no-comm and coming back shows both', () => {
  const instance = deadband({ absolute: 10 });
  const out = run(instance, [num(1, 20), num(2, NaN, 0, 3), num(3, NaN, 0, 3), num(4, 20), num(5, 20.5), num(6, 21, 0, 1), num(7, 21, 0, 1)]);
  assert.deepEqual(out, [[1, 20, 0, 0], [2, NaN, 0, 3], [4, 20, 0, 0], [6, 21, 0, 1]]);
  assert.deepEqual(instance.stats(), { suppressed: 3, heartbeats: 0, clock_steps: 0 });
});

test('bools emit on change only, whatever the bands', () => {
  const instance = deadband({ absolute: 5, percent: 50 });
  assert.deepEqual(run(instance, [bool(1, 0), bool(2, 0), bool(3, 1), bool(4, 1), bool(5, 0)]).map((r) => [r[0], r[1]]), [[1, 0], [3, 1], [5, 0]]);
});

test('text emits when its bytes change; the text heap survives the compaction', () => {
  const instance = deadband();
  const out = run(instance, [text(1, 'B-17'), num(1, 3), text(2, 'B-17'), num(2, 3), text(3, 'B-18 ü'), text(4, 'B-18 ü'), text(5, 'B-17'), num(5, 4)]);
  assert.deepEqual(out, [[1, 'B-17', 2, 0], [1, 3, 0, 0], [3, 'B-18 ü', 2, 0], [5, 'B-17', 2, 0], [5, 4, 0, 0]]);
});

test('heartbeat by sample time: a sample passes once the point was silent that long', () => {
  const instance = deadband({ heartbeat: 5000 });
  const out = run(instance, [0, 1000, 4999, 5000, 6000, 9999, 10000].map((t) => num(t, 1.0)));
  assert.deepEqual(out.map((r) => r[0]), [0, 5000, 10000]);
  assert.deepEqual(instance.stats(), { suppressed: 4, heartbeats: 2, clock_steps: 0 });
});

test('heartbeat by tick: a silent point is re-emitted at the tick time with its latest value and quality', () => {
  const instance = deadband({ absolute: 0.1, heartbeat: 5000 });
  run(instance, [num(1000, 5), bool(1000, 1), text(1000, 'B-17'), num(2000, 5.05)]);
  assert.deepEqual(tick(instance, 2000), []);
  assert.deepEqual(tick(instance, 5999), []);
  // tank.level last emitted at 1000 (its 5.05 was kept back, but is the latest value); pump.running at 1000.
  assert.deepEqual(tick(instance, 6000), [[6000, 5.05, 0, 0, 0], [6000, 1, 1, 0, 1]]);
  assert.deepEqual(tick(instance, 7000), []);
  // A sample inside the band after the heartbeat does not emit: the heartbeat moved the reference to 5.05.
  assert.deepEqual(run(instance, [num(8000, 5.1)]), []);
  assert.deepEqual(tick(instance, 11000), [[11000, 5.1, 0, 0, 0], [11000, 1, 1, 0, 1]]);
  assert.equal(instance.tick(Number.POSITIVE_INFINITY).byteLength, 0, 'shutdown emits nothing extra');
  assert.deepEqual(instance.stats(), { suppressed: 2, heartbeats: 4, clock_steps: 0 });
});

test('heartbeat of a point that went no-comm repeats no-comm', () => {
  const instance = deadband({ heartbeat: 1000 });
  run(instance, [num(0, 4), num(500, NaN, 0, 3)]);
  assert.deepEqual(tick(instance, 1500), [[1500, NaN, 0, 3, 0]]);
});

test('per-point settings: an entry overrides the top level for its point only', () => {
  const instance = deadband({ absolute: 1, heartbeat: 0, points: { 'pump.running': { heartbeat: 100 } } });
  run(instance, [num(0, 1), bool(0, 1)]);
  assert.deepEqual(tick(instance, 100), [[100, 1, 1, 0, 1]]);
  // batch.id carries numbers here: the top-level band (1) keeps its 1.5 back, tank.level's own (0.01) does not.
  const own = deadband({ absolute: 1, points: { 'tank.level': { absolute: 0.01 } } });
  assert.deepEqual(run(own, [num(0, 1, 0), num(0, 1, 2), num(1, 1.5, 0), num(1, 1.5, 2)]), [[0, 1, 0, 0], [0, 1, 2, 0], [1, 1.5, 0, 0]]);
});

test('aggregates and unknown points or types pass untouched and leave no state', () => {
  const instance = deadband({ absolute: 100 });
  const others: Sample[] = [
    { ts: 1, value: 5, point: 0, quality: 0, aggregate: 1 },
    { ts: 2, value: 5, point: 0, quality: 0, aggregate: 1 },
    { ts: 3, value: 5, point: 9, quality: 0 },
    { ts: 4, value: 5, point: 9, quality: 0 },
    { ts: 5, value: 5, point: 0, quality: 0, type: 7 },
  ];
  const input = encodeSamples(others);
  assert.equal(instance.process(input), input);
  assert.deepEqual(run(instance, [num(6, 50)]), [[6, 50, 0, 0]], 'still the first sample of tank.level');
});

// ---------------------------------------------------------------- configure rejections

test('configure rejects what the schema cannot express, and re-checks every value, naming the setting', () => {
  const cases: [Record<string, unknown>, boolean, RegExp][] = [
    [{ points: { 'tank.lvl': { absolute: 1 } } }, false, /with\.points\.tank\.lvl: no point of that name/],
    [{ absolute: -1 }, true, /with\.absolute: must be 0 or more/],
    [{ percent: 'ten' }, true, /with\.percent: must be 0 or more/],
    [{ heartbeat: 1.5 }, true, /with\.heartbeat: must be a whole number of ms, 0 to 2147483647/],
    [{ points: { 'pump.running': { heartbeat: -5 } } }, true, /with\.points\.pump\.running\.heartbeat: must be a whole number of ms/],
    [{ points: { 'pump.running': [] } }, true, /with\.points\.pump\.running: expected an object/],
  ];
  for (const [settings, raw, message] of cases) {
    assert.throws(() => deadband(settings, raw), (err: unknown) => isWgError(err, 'WG_ERR_PLUGIN_CONFIGURE') && message.test(err.message), String(message));
  }
  const findings = manifest.validateSettings({ absolute: -1, heartbeat: 1.5, points: { 'tank.level': { percent: -2 } } });
  assert.deepEqual(findings.map((f) => f.path.join('.')).sort(), ['absolute', 'heartbeat', 'points.tank.level.percent']);
});

// ---------------------------------------------------------------- property

interface Band { absolute: number; percent: number; heartbeat: number }

interface PointState {
  emitted: number | string;
  latest: number | string;
  quality: number;
  type: number;
  emittedAt: number;
}

/** Report by exception as the manifest describes it, over whole samples. */
class ReferenceDeadband {
  readonly state: (PointState | undefined)[] = points.map(() => undefined);
  readonly counts = { suppressed: 0, heartbeats: 0, clock_steps: 0 };
  constructor(readonly bands: Band[]) {}

  process(batch: readonly Sample[]): Sample[] {
    return batch.filter((s) => this.#emits(s));
  }

  #emits(s: Sample): boolean {
    const type = s.type ?? (typeof s.value === 'string' ? 2 : 0);
    const band = this.bands[s.point];
    if (!band || (s.aggregate ?? 0) !== 0 || type > 2) return true;
    const before = this.state[s.point];
    let emit = before === undefined || before.quality !== s.quality || before.type !== type || this.#changed(type, s.value, before.emitted, band);
    if (!emit && band.heartbeat > 0 && s.ts - before!.emittedAt >= band.heartbeat) {
      emit = true;
      this.counts.heartbeats++;
    }
    this.state[s.point] = {
      latest: s.value,
      quality: s.quality,
      type,
      emitted: emit ? s.value : before!.emitted,
      emittedAt: emit ? s.ts : before!.emittedAt,
    };
    if (!emit) this.counts.suppressed++;
    return emit;
  }

  #changed(type: number, x: number | string, last: number | string, band: Band): boolean {
    if (type === 2) return x !== last;
    const a = x as number;
    const b = last as number;
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) !== Number.isNaN(b);
    if (a === b) return false;
    if (type === 1) return true;
    const d = Math.abs(a - b);
    if (band.absolute === 0 && band.percent === 0) return true;
    if (d === Number.POSITIVE_INFINITY) return true;
    return (band.absolute > 0 && d > band.absolute) || (band.percent > 0 && d > (band.percent / 100) * Math.abs(b));
  }

  tick(now: number): Sample[] {
    if (!Number.isFinite(now)) return [];
    const out: Sample[] = [];
    this.state.forEach((st, point) => {
      const band = this.bands[point]!;
      if (!st || band.heartbeat === 0 || st.type === 2 || now - st.emittedAt < band.heartbeat) return;
      out.push({ ts: now, value: st.latest, point, quality: st.quality, type: st.type, aggregate: 0 });
      st.emitted = st.latest;
      st.emittedAt = now;
      this.counts.heartbeats++;
    });
    return out;
  }
}

const arbBand = fc.record(
  { absolute: fc.constantFrom(0, 0.05, 0.3), percent: fc.constantFrom(0, 1, 10), heartbeat: fc.constantFrom(0, 250, 1000, 3000) },
  { requiredKeys: [] },
);

const arbEvent = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('walk' as const), point: fc.constantFrom(0, 2), k: fc.integer({ min: -30, max: 30 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('bool' as const), value: fc.constantFrom(0, 1) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('text' as const), value: fc.constantFrom('A', 'B', 'Ä') }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('quality' as const), point: fc.integer({ min: 0, max: 2 }), quality: fc.constantFrom(0, 1, 2, 3) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('other' as const), aggregate: fc.constantFrom(0, 2) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), ahead: fc.integer({ min: -500, max: 4000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('gap' as const), ms: fc.integer({ min: 0, max: 5000 }) }) },
);
type Event = typeof arbEvent extends fc.Arbitrary<infer E> ? E : never;
type Step = { batch: Sample[] } | { tick: number };

/** Events to a schedule of batches and ticks: random walks, bools, texts, quality runs, time gaps. */
function scheduleOf(events: readonly Event[]): Step[] {
  const steps: Step[] = [{ batch: [] }];
  const quality = [0, 0, 0];
  const level = [10, 0, -2];
  let ts = 1_700_000_000_000;
  const add = (s: Sample) => {
    const last = steps.at(-1)!;
    if ('batch' in last) last.batch.push(s);
    else steps.push({ batch: [s] });
  };
  for (const e of events) {
    ts += 100;
    if (e.kind === 'walk') {
      level[e.point] = level[e.point]! + e.k * 0.01;
      add({ ts, value: quality[e.point]! >= 2 ? Number.NaN : level[e.point]!, point: e.point, quality: quality[e.point]! });
    } else if (e.kind === 'bool') add({ ts, value: e.value, point: 1, quality: quality[1]!, type: 1 });
    else if (e.kind === 'text') add({ ts, value: e.value, point: 2, quality: quality[2]! });
    else if (e.kind === 'quality') quality[e.point] = e.quality;
    else if (e.kind === 'other') add({ ts, value: 1, point: e.aggregate === 0 ? 5 : 0, quality: 0, aggregate: e.aggregate });
    else if (e.kind === 'tick') steps.push({ tick: ts + e.ahead }, { batch: [] });
    else if (e.kind === 'cut') steps.push({ batch: [] });
    else ts += e.ms;
  }
  return steps.filter((s) => !('batch' in s) || s.batch.length > 0);
}

const normalize = (s: Sample): Sample => ({ ...s, type: s.type ?? (typeof s.value === 'string' ? 2 : 0), aggregate: s.aggregate ?? 0 });

test('property: the plugin emits exactly what the reference emits, from batches and ticks, counters included', () => {
  fc.assert(
    fc.property(arbBand, fc.array(arbBand, { minLength: 3, maxLength: 3 }), fc.array(arbEvent, { minLength: 10, maxLength: 300, size: 'max' }), (top, own, events) => {
      const settings: Record<string, unknown> = { ...top, points: Object.fromEntries(own.map((o, i) => [points[i]!.name, o])) };
      const filled = withDefaults(settings);
      const bands = points.map((p, i) => ({ ...filled, ...own[i] }) as unknown as Band);
      const reference = new ReferenceDeadband(bands);
      const instance = deadband(settings);
      for (const [i, step] of scheduleOf(events).entries()) {
        if ('tick' in step) {
          assert.deepEqual(ticked(instance, step.tick), reference.tick(step.tick), `tick ${i}`);
          continue;
        }
        const input = encodeSamples(step.batch);
        const output = instance.process(input);
        const want = reference.process(step.batch);
        if (want.length === step.batch.length) assert.equal(output, input, `step ${i} unchanged`);
        assert.deepEqual(decodeSamples(output), want.map(normalize), `step ${i}`);
      }
      assert.equal(instance.tick(Number.POSITIVE_INFINITY).byteLength, 0);
      assert.deepEqual(instance.stats(), reference.counts);
    }),
    { numRuns: 300 },
  );
});

test('a settings document without the defaults the host fills in is refused, naming the setting', () => {
  // The defaults live in plugin.yaml only; a document made without the host must not run on guesses.
  const instance = new PluginInstance(compiled);
  assert.throws(
    () => instance.configure({ abi: 1, pipeline: 't', step: 3, plugin: 'deadband', with: { absolute: 1, percent: 0 }, devices: [], points }),
    (err: unknown) => isWgError(err, 'WG_ERR_PLUGIN_CONFIGURE') && /with\.heartbeat: missing/.test(err.message),
  );
});
