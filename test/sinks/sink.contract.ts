/**
 * The Sink contract (src/host/sinks/sink.ts) as one suite, run against each real broker: connect,
 * publish QoS 0 and 1 seen exactly by an independent subscriber, order, outage and reconnection with
 * nothing lost, credentials, clean close.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isWgError, type ErrorCode } from '../../src/host/errors.js';
import type { Sink } from '../../src/host/sinks/sink.js';
import type { TestBroker, TestBrokerOptions } from '../support/test-broker.js';
import { subscribe, type ReceivedMessage } from '../support/mqtt-subscriber.js';

export interface SinkUnderTest {
  readonly name: string;
  readonly username?: string;
  readonly password?: string;
}

export interface SinkContractSetup {
  /** Starts a fresh broker for one test. */
  startBroker(options: TestBrokerOptions): Promise<TestBroker>;
  /** Builds an unstarted sink publishing to `broker`, default QoS 1, quick reconnect back-off. */
  makeSink(broker: TestBroker, sink: SinkUnderTest): Sink;
  /**
   * Whether the broker forwards QoS 0 and QoS 1 messages from one client in the order it received
   * them. MQTT only promises order within one QoS level, so with a broker that does not, the suite
   * checks order per level (the sink still writes them in publish order).
   */
  keepsOrderAcrossQos: boolean;
}

/** Bound for any one step on loopback; only a failing test waits this long. */
const STEP_MS = 10_000;

const text = (messages: readonly ReceivedMessage[]) => messages.map((m) => m.payload.toString());

/** QoS 1 is at-least-once: a broker may redeliver (DUP) after a restart. Keep first arrivals. */
const firstArrivals = (messages: readonly ReceivedMessage[]) => [...new Set(text(messages))];

function assertUplinkError(error: unknown, code: ErrorCode, uplink: string): true {
  assert.ok(isWgError(error, code), `expected ${code}, got ${String(error)}`);
  assert.equal(error.context.uplink, uplink);
  return true;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + STEP_MS;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function describeSinkContract(name: string, setup: SinkContractSetup, options: { skip?: string } = {}): void {
  const topicRoot = () => `wasmgate-test/${randomUUID()}`;

  /** Runs `fn` with a broker and closes everything it opened, pass or fail. */
  const withBroker = (brokerOptions: TestBrokerOptions, fn: (broker: TestBroker, track: (s: Sink) => Sink) => Promise<void>) =>
    async () => {
      const broker = await setup.startBroker(brokerOptions);
      const sinks: Sink[] = [];
      try {
        await fn(broker, (sink) => (sinks.push(sink), sink));
      } finally {
        await Promise.all(sinks.map((s) => s.close(1_000)));
        await broker.dispose();
      }
    };

  describe(`sink contract: ${name}`, options, () => {
    test('connects, then reports connected', withBroker({}, async (broker, track) => {
      const sink = track(setup.makeSink(broker, { name: 'cloud' }));
      assert.equal(sink.state, 'offline');
      sink.start();
      await sink.waitConnected(STEP_MS);
      assert.equal(sink.state, 'connected');
      assert.equal(sink.lastError, undefined);
    }));

    test('publishes QoS 0 and QoS 1 with the exact topic and payload', withBroker({}, async (broker, track) => {
      const root = topicRoot();
      const sub = await subscribe(broker.url, `${root}/#`);
      try {
        const sink = track(setup.makeSink(broker, { name: 'cloud' }));
        sink.start();
        await sink.waitConnected(STEP_MS);
        const binary = Uint8Array.from({ length: 256 }, (_, i) => i); // every byte value, NUL included
        await sink.publish(`${root}/line1/press`, binary, { qos: 1 });
        await sink.publish(`${root}/line1/temp`, '{"t":21.5,"unit":"°C"}', { qos: 0 });
        const got = await sub.waitFor(2, STEP_MS);
        assert.equal(got[0]?.topic, `${root}/line1/press`);
        assert.deepEqual(new Uint8Array(got[0]!.payload), binary);
        assert.equal(got[1]?.topic, `${root}/line1/temp`);
        assert.equal(got[1]?.payload.toString('utf8'), '{"t":21.5,"unit":"°C"}');
        assert.deepEqual(sink.counters(), { published: 2, acked: 2, failed: 0, reconnects: 0, queued: 0, unmarked: 0, replayed: 0 });
      } finally {
        await sub.close();
      }
    }));

    for (const qos of [0, 1] as const) {
      test(`keeps publish order at QoS ${qos}`, withBroker({}, async (broker, track) => {
        const topic = `${topicRoot()}/seq`;
        const sub = await subscribe(broker.url, topic, { qos });
        try {
          const sink = track(setup.makeSink(broker, { name: 'cloud' }));
          sink.start();
          await sink.waitConnected(STEP_MS);
          const expected = Array.from({ length: 200 }, (_, i) => `m${i}`);
          await Promise.all(expected.map((p) => sink.publish(topic, p, { qos })));
          assert.deepEqual(text(await sub.waitFor(expected.length, STEP_MS)), expected);
        } finally {
          await sub.close();
        }
      }));
    }

    test('queues QoS 0 and 1 published before the first connection and sends them in publish order', withBroker({}, async (broker, track) => {
      const topic = `${topicRoot()}/early`;
      // A QoS 0 subscription makes the broker forward both QoS levels in one flow, so arrival order is publish order.
      const sub = await subscribe(broker.url, topic, { qos: 0 });
      try {
        const sink = track(setup.makeSink(broker, { name: 'cloud' }));
        const expected = ['a0', 'b1', 'c0', 'd1', 'e0', 'f1'];
        const sent = expected.map((p) => sink.publish(topic, p, { qos: p.endsWith('1') ? 1 : 0 }));
        assert.equal(sink.counters().queued, expected.length);
        sink.start();
        await Promise.all(sent);
        const got = text(await sub.waitFor(expected.length, STEP_MS));
        if (setup.keepsOrderAcrossQos) assert.deepEqual(got, expected);
        for (const level of ['0', '1']) {
          const atLevel = (list: string[]) => list.filter((p) => p.endsWith(level));
          assert.deepEqual(atLevel(got), atLevel(expected), `order at QoS ${level}`);
        }
        assert.deepEqual(sink.counters(), { published: 6, acked: 6, failed: 0, reconnects: 0, queued: 0, unmarked: 0, replayed: 0 });
      } finally {
        await sub.close();
      }
    }));

    test('broker down then up: reconnects and delivers what was queued, in order, none lost', withBroker({}, async (broker, track) => {
      const topic = `${topicRoot()}/outage`;
      const sub = await subscribe(broker.url, topic, { persistentId: `sub-${randomUUID().slice(0, 8)}` });
      try {
        const sink = track(setup.makeSink(broker, { name: 'cloud' }));
        sink.start();
        await sink.waitConnected(STEP_MS);
        const before = Array.from({ length: 5 }, (_, i) => `before-${i}`);
        await Promise.all(before.map((p) => sink.publish(topic, p, { qos: 1 })));

        await broker.stop();
        await until(() => sink.state !== 'connected', 'the sink notices the broker is gone');
        const during = Array.from({ length: 20 }, (_, i) => `during-${i}`);
        const sent = during.map((p) => sink.publish(topic, p, { qos: 1 }));
        assert.equal(sink.counters().queued, during.length);

        await broker.start();
        await Promise.all(sent);
        const expected = [...before, ...during];
        await sub.waitUntil((m) => firstArrivals(m).length >= expected.length, `${expected.length} distinct messages`, STEP_MS);
        assert.deepEqual(firstArrivals(sub.messages), expected);
        const counters = sink.counters();
        assert.ok(counters.reconnects >= 1, `reconnects = ${counters.reconnects}`);
        assert.deepEqual({ ...counters, reconnects: 0 }, { published: 25, acked: 25, failed: 0, reconnects: 0, queued: 0, unmarked: 0, replayed: 0 });
        assert.equal(sink.state, 'connected');
      } finally {
        await sub.close();
      }
    }));

    test('waitConnected rejects while no broker answers, and the sink connects once one does', withBroker({}, async (broker, track) => {
      await broker.stop();
      const sink = track(setup.makeSink(broker, { name: 'cloud' }));
      sink.start();
      await assert.rejects(sink.waitConnected(200), (e) => assertUplinkError(e, 'WG_ERR_UPLINK_CONNECT', 'cloud'));
      assert.notEqual(sink.state, 'connected');
      await broker.start();
      await sink.waitConnected(STEP_MS);
      assert.equal(sink.state, 'connected');
    }));

    const users = { gateway: 's3cret' };
    test('accepts the right username and password', withBroker({ users }, async (broker, track) => {
      const topic = `${topicRoot()}/auth`;
      const sub = await subscribe(broker.url, topic, { username: 'gateway', password: 's3cret' });
      try {
        const sink = track(setup.makeSink(broker, { name: 'cloud', username: 'gateway', password: 's3cret' }));
        sink.start();
        await sink.waitConnected(STEP_MS);
        await sink.publish(topic, 'authenticated', { qos: 1 });
        assert.deepEqual(text(await sub.waitFor(1, STEP_MS)), ['authenticated']);
      } finally {
        await sub.close();
      }
    }));

    test('a refused password fails waitConnected with WG_ERR_UPLINK_CONNECT', withBroker({ users }, async (broker, track) => {
      const sink = track(setup.makeSink(broker, { name: 'cloud', username: 'gateway', password: 'wrong' }));
      sink.start();
      await assert.rejects(sink.waitConnected(STEP_MS), (e) => assertUplinkError(e, 'WG_ERR_UPLINK_CONNECT', 'cloud'));
      assert.notEqual(sink.state, 'connected');
      assert.ok(isWgError(sink.lastError, 'WG_ERR_UPLINK_CONNECT'));
    }));

    test('close() waits for in-flight QoS 1 acknowledgements, then refuses new publishes', withBroker({}, async (broker, track) => {
      const topic = `${topicRoot()}/close`;
      const sub = await subscribe(broker.url, topic);
      try {
        const sink = track(setup.makeSink(broker, { name: 'cloud' }));
        sink.start();
        await sink.waitConnected(STEP_MS);
        const expected = Array.from({ length: 50 }, (_, i) => `last-${i}`);
        const sent = expected.map((p) => sink.publish(topic, p, { qos: 1 }));
        await sink.close(STEP_MS);
        assert.equal(sink.state, 'closed');
        await Promise.all(sent); // every one acknowledged before close() resolved
        assert.equal(sink.counters().acked, expected.length);
        assert.deepEqual(text(await sub.waitFor(expected.length, STEP_MS)), expected);
        await assert.rejects(sink.publish(topic, 'too late'), (e) => assertUplinkError(e, 'WG_ERR_UPLINK_PUBLISH', 'cloud'));
        await assert.rejects(sink.waitConnected(STEP_MS), (e) => assertUplinkError(e, 'WG_ERR_UPLINK_CONNECT', 'cloud'));
        await sink.close(); // idempotent
      } finally {
        await sub.close();
      }
    }));

    test('close() while the broker is down rejects what was queued with WG_ERR_UPLINK_PUBLISH', withBroker({}, async (broker, track) => {
      const sink = track(setup.makeSink(broker, { name: 'cloud' }));
      sink.start();
      await sink.waitConnected(STEP_MS);
      await broker.stop();
      await until(() => sink.state !== 'connected', 'the sink notices the broker is gone');
      const sent = [sink.publish('t/a', 'x', { qos: 1 }), sink.publish('t/b', 'y', { qos: 0 })];
      const rejected = sent.map((p) => assert.rejects(p, (e) => assertUplinkError(e, 'WG_ERR_UPLINK_PUBLISH', 'cloud')));
      await sink.close(1_000);
      await Promise.all(rejected);
      assert.equal(sink.state, 'closed');
      assert.deepEqual(sink.counters(), { published: 2, acked: 0, failed: 2, reconnects: sink.counters().reconnects, queued: 0, unmarked: 0, replayed: 0 });
    }));
  });
}
