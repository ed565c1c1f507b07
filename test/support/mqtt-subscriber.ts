/**
 * An independent MQTT subscriber (a plain MQTT.js client, not our sink) that records what a broker
 * delivered, so tests assert on what actually came out.
 */
import { connectAsync, type MqttClient } from 'mqtt';

export interface ReceivedMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: number;
  readonly dup: boolean;
  /** Set on a retained message the broker hands a new subscription (MQTT 3.1.1 §3.3.1.3). */
  readonly retain: boolean;
  /** MQTT 5 subscriber only: the PUBLISH's user properties and remaining message expiry, as the broker forwarded them. */
  readonly userProperties?: Readonly<Record<string, string | string[]>>;
  readonly messageExpiryInterval?: number;
}

export interface SubscribeOptions {
  readonly username?: string;
  readonly password?: string;
  /** Subscription QoS (default 1). QoS 0 makes the broker forward every message as it comes, in one flow. */
  readonly qos?: 0 | 1;
  /**
   * A client id for a persistent session (clean=false): the broker keeps the subscription and queues
   * QoS 1 messages while this subscriber is cut off, e.g. across a broker restart.
   */
  readonly persistentId?: string;
  /** 4 (MQTT 3.1.1, the default) or 5, to see MQTT 5 properties. */
  readonly protocolVersion?: 4 | 5;
}

export interface TestSubscriber {
  /** Everything received so far, in arrival order. */
  readonly messages: readonly ReceivedMessage[];
  /** Resolves with the first `count` messages once that many arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs: number): Promise<ReceivedMessage[]>;
  /** Resolves once `done(messages)` holds; rejects after `timeoutMs`, saying what `what` waited for. */
  waitUntil(done: (messages: readonly ReceivedMessage[]) => boolean, what: string, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Connects, subscribes to `topic` and resolves once the broker acknowledged the subscription. */
export async function subscribe(url: string, topic: string, options: SubscribeOptions = {}): Promise<TestSubscriber> {
  const client: MqttClient = await connectAsync(url, {
    username: options.username,
    password: options.password,
    clean: options.persistentId === undefined,
    ...(options.persistentId !== undefined && { clientId: options.persistentId }),
    reconnectPeriod: 50,
    protocolVersion: options.protocolVersion ?? 4,
  });
  const messages: ReceivedMessage[] = [];
  let wake: (() => void) | undefined;
  client.on('message', (t, payload, packet) => {
    const { userProperties, messageExpiryInterval } = packet.properties ?? {};
    messages.push({
      topic: t, payload: Buffer.from(payload), qos: packet.qos, dup: packet.dup, retain: packet.retain,
      ...(userProperties !== undefined && { userProperties: { ...userProperties } }), // the parser's object has no prototype
      ...(messageExpiryInterval !== undefined && { messageExpiryInterval }),
    });
    wake?.();
  });
  client.on('error', () => {
    /* reconnects on its own; tests look at what arrived */
  });
  await client.subscribeAsync(topic, { qos: options.qos ?? 1 });

  const waitUntil = async (done: (m: readonly ReceivedMessage[]) => boolean, what: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!done(messages)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`subscriber on ${topic}: no ${what} within ${timeoutMs} ms (got ${messages.length} messages)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  };

  return {
    messages,
    waitUntil,
    async waitFor(count, timeoutMs) {
      await waitUntil((m) => m.length >= count, `${count} messages`, timeoutMs);
      return messages.slice(0, count);
    },
    close: () => client.endAsync(true),
  };
}

/**
 * Subscribes once a broker that a child process starts (the demo's own) accepts connections: retries
 * until `timeoutMs`, and gives up early when `alive()` turns false. `describe()` goes into the error.
 */
export async function subscribeWhenUp(url: string, topic: string, child: { alive(): boolean; describe(): string }, timeoutMs = 20_000): Promise<TestSubscriber> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await subscribe(url, topic);
    } catch (err) {
      if (Date.now() > deadline || !child.alive()) throw new Error(`the broker at ${url} never came up: ${String(err)}\n${child.describe()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
