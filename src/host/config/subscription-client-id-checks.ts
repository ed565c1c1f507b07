/**
 * An `mqtt_subscribe` source whose client id another connection of the gateway already uses on the
 * same broker: an MQTT uplink (its `client_id`, by default `wasmgate-<gateway id>`) or an earlier
 * pipeline's `mqtt_subscribe` source. A broker keeps one connection per client id (MQTT 3.1.1
 * §3.1.4, MQTT 5 §3.1.4): each connection takes the session over and closes the other, which
 * reconnects and closes the first, for ever; and with `clean_session: false` the two share (and
 * clear) one session, so the uplink's unacknowledged publishes and the source's subscriptions are
 * mixed up. Brokers are compared as the loop check does (brokerKey: loopback names as one).
 */
import type { ConfigProblem } from './problem.js';
import type { ResolvedGateway, ResolvedPipeline } from './resolved.js';
import type { YamlSource } from './yaml-source.js';
import { brokerKey } from './subscription-loop-checks.js';
import { shownBrokerUrl } from '../sources/mqtt-broker-url.js';

export function checkSubscriptionClientIds(config: ResolvedGateway, sourceOf: (file: string) => YamlSource): ConfigProblem[] {
  /** brokerKey + '\u0000' + client id -> what already connects with it. */
  const taken = new Map<string, string>();
  const keyOf = (url: string, clientId: string) => {
    const broker = brokerKey(url);
    return broker === undefined ? undefined : `${broker}\u0000${clientId}`;
  };
  for (const uplink of config.uplinks) {
    if (uplink.transport !== 'mqtt') continue;
    const key = keyOf(uplink.url, uplink.clientId);
    if (key !== undefined && !taken.has(key)) taken.set(key, `uplink ${uplink.name}`);
  }
  const problems: ConfigProblem[] = [];
  for (const pipeline of config.pipelines) {
    for (const link of pipeline.source.links) {
      if (link.transport !== 'push' || !link.mqtt) continue;
      const { url, clientId } = link.mqtt.broker;
      const key = keyOf(url, clientId);
      if (key === undefined) continue;
      const other = taken.get(key);
      if (other === undefined) {
        taken.set(key, sourceName(pipeline));
        continue;
      }
      problems.push(sourceOf(pipeline.file).problem([...link.at, 'client_id'], 'WG_ERR_CONFIG_CONFLICT', {
        detail: `client id ${clientId} is the one ${other} connects to ${shownBrokerUrl(url)} with: a broker keeps one connection per client id, and the two would close each other's connection for ever`,
      }));
    }
  }
  return problems;
}

function sourceName(pipeline: ResolvedPipeline): string {
  return `the mqtt_subscribe source of pipeline ${pipeline.name}`;
}
