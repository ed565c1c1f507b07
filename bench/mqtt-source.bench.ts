/**
 * The mqtt_subscribe source: messages a second taken into the chain (mqtt_subscribe → payload → json,
 * into memory) from Debian's mosquitto, fed by mosquitto_pub as fast as it sends (QoS 0 --repeat, QoS 1 -l), at QoS 0 and at
 * QoS 1 (each PUBACK only once the reading is in the ingress ring), and the process's RSS while it
 * runs. The source's rate limit is set far above what loopback carries, so that nothing is refused:
 * the figure is the path's own cost (MQTT.js parsing, the topic routes, the push gate, the ring, the
 * payload decoder and json in the worker). mosquitto and mosquitto_pub share the two cores with it.
 *
 * Run: `npx tsc -p tsconfig.json && node dist/bench/mqtt-source.bench.js [messages]`
 */
import { printMachine, emitResult } from './machine.js';
import { startCapturedPipeline } from '../test/support/captured-pipeline.js';
import { startMosquitto, mosquittoPath } from '../test/support/mosquitto.js';
import { mosquittoPubPath, publishLines, publishRepeated } from '../test/support/mosquitto-pub.js';

const MESSAGES = Number(process.argv[2] ?? 100_000);

function pipeline(brokerUrl: string, qos: 0 | 1): string {
  return `pipeline: { name: bench }
source:
  mqtt_subscribe:
    broker: { url: ${brokerUrl}, client_id: bench-q${qos} }
    qos: ${qos}
    rate: 1000000
    burst: 1000000
    topics:
      - pattern: plant/{device}/{point}
    devices:
      - name: boiler1
        points: [{ name: temp }]
steps:
  - plugin: payload
  - plugin: json
publish: { uplink: cloud, topic: "b/{device}/{point}" }
`;
}

async function messagesPerSecond(brokerUrl: string, port: number, qos: 0 | 1, count: number): Promise<{ rate: number; published: number; rssMiB: number; idleMiB: number }> {
  const run = await startCapturedPipeline(pipeline(brokerUrl, qos));
  try {
    const source = () => run.pipeline.status().pushSources[0]!;
    while (!source().listening) await new Promise((r) => setTimeout(r, 20));
    const rssIdle = process.memoryUsage().rss;
    let rssPeak = rssIdle;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      run.sink.messages.length = 0; // the capture is not what is measured
    }, 50);
    const t0 = performance.now();
    // QoS 0: --repeat, mosquitto_pub sends on its own and this process (the gateway's main thread)
    // writes nothing. QoS 1: --repeat waits for each PUBACK before the next publish, so -l instead,
    // which keeps 20 in flight; its lines are written from here.
    const sending = qos === 0
      ? publishRepeated(port, 'plant/boiler1/temp', '21.5', count, { qos })
      : publishLines(port, 'plant/boiler1/temp', (function* () {
        for (let i = 0; i < count; i++) yield String(20 + (i % 100) / 10);
      })(), { qos });
    // Done when every message is in, or when nothing more came for a second (QoS 0 may be dropped by the broker).
    let last = -1;
    let lastChange = performance.now();
    let doneAt = t0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 20));
      const accepted = source().accepted;
      if (accepted !== last) {
        last = accepted;
        lastChange = doneAt = performance.now();
      }
      if (accepted >= count || performance.now() - lastChange > 1_000) break;
    }
    await sending;
    clearInterval(sampler);
    const accepted = source().accepted;
    if (accepted < count) console.log(`  (QoS ${qos}: ${accepted} of ${count} arrived; refused ${JSON.stringify(source().refused)})`);
    return { rate: (accepted * 1000) / (doneAt - t0), published: run.pipeline.status().published, rssMiB: rssPeak / 2 ** 20, idleMiB: rssIdle / 2 ** 20 };
  } finally {
    await run.stop();
  }
}

printMachine();
if (!mosquittoPath() || !mosquittoPubPath()) {
  console.log('mqtt-source: mosquitto and mosquitto_pub are needed (apt-get install mosquitto mosquitto-clients); nothing measured');
} else {
  const broker = await startMosquitto({ quiet: true, unthrottled: true });
  try {
    for (const qos of [0, 1] as const) {
      const n = qos === 0 ? MESSAGES : Math.ceil(MESSAGES / 4);
      const { rate, published, rssMiB, idleMiB } = await messagesPerSecond(broker.url, broker.port, qos, n);
      console.log(`  QoS ${qos}: ${n} messages sent, ${published} published by json; RSS ${idleMiB.toFixed(0)} MiB subscribed and idle before`);
      emitResult(`MQTT source messages/s into the chain, QoS ${qos} (mosquitto_pub → mosquitto → payload → json, loopback)`, rate, 'messages/s');
      emitResult(`RSS peak while taking them, QoS ${qos}`, rssMiB, 'MiB');
    }
  } finally {
    await broker.dispose();
  }
}
