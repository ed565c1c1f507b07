/**
 * `wasmgate demo`: the gateway on the shipped demo config (config/demo.yaml) with everything it talks
 * to started in-process: a Modbus TCP PLC simulator whose values behave like a process, and an MQTT
 * broker on the uplink's address unless one already answers there (then the demo publishes to it).
 */
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { startPlcSimulator, type PlcSimulator } from '../demo/plc-simulator.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../sinks/embedded-broker.js';
import { createLogger } from '../logger.js';
import { loadOrReport, runGateway } from './run.js';
import { packageRoot } from '../package-root.js';

export const DEMO_CONFIG = join(packageRoot(), 'config', 'demo.yaml');

async function brokerAnswers(url: string): Promise<boolean> {
  try {
    const client = await connectAsync(url, { connectTimeout: 1500, reconnectPeriod: 0, clientId: `wasmgate-demo-probe-${process.pid}` });
    await client.endAsync();
    return true;
  } catch {
    return false;
  }
}

export async function runDemo(configFile: string | undefined, out: (line: string) => void): Promise<number> {
  const file = configFile ?? DEMO_CONFIG;
  const config = await loadOrReport(file, out);
  if (!config) return 1;
  const logger = createLogger(config.log.level, 'pretty', { gateway: config.id });

  const plcs: PlcSimulator[] = [];
  let broker: EmbeddedBroker | undefined;
  try {
    // The demo's devices are Modbus TCP: one simulated PLC wherever a link points.
    const endpoints = new Map(config.pipelines.flatMap((p) => p.source.links).flatMap((l) => (l.transport === 'tcp' ? [[`${l.host}:${l.port}`, l] as const] : [])));
    for (const device of endpoints.values()) {
      plcs.push(await startPlcSimulator({ host: device.host, port: device.port, mode: 'process' }));
      logger.info({ event: 'demo.ready', host: device.host, port: device.port }, 'demo PLC simulator listening');
    }
    for (const uplink of config.uplinks) {
      const url = new URL(uplink.url);
      if (await brokerAnswers(uplink.url)) {
        logger.info({ event: 'demo.ready', url: uplink.url }, 'an MQTT broker answers there; the demo publishes to it');
      } else if (url.protocol === 'mqtt:' && !broker) {
        broker = await startEmbeddedBroker({ host: url.hostname, port: Number(url.port || 1883) });
        logger.info({ event: 'demo.ready', url: uplink.url }, 'embedded MQTT broker started (no broker answered there); try: mosquitto_sub -t "#" -v');
      }
    }
    return await runGateway(config, { logger, logMessages: true, statusIntervalMs: 10_000 });
  } finally {
    await Promise.all(plcs.map((p) => p.close()));
    await broker?.close();
  }
}

