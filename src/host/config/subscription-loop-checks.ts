/**
 * A subscription that takes the gateway's own messages back in: an `mqtt_subscribe` source whose
 * topic filter matches a topic the gateway publishes to the same broker. Each message published would
 * come back as a reading, be published again, and come back again. Checked across the whole gateway
 * once it is resolved, since the topics published are those of every pipeline, and of the uplinks'
 * status, drop report and fleet status; reported at the filter's pattern, naming the topic it catches
 * and what publishes there.
 *
 * The topics are the concrete ones (each point's `publish.topic` rendered), so a filter that only
 * looks like the publish template but cannot match any point's topic is not refused.
 */
import type { ConfigProblem } from './problem.js';
import type { ResolvedGateway, ResolvedPipeline } from './resolved.js';
import type { SettingPath } from './setting-path.js';
import type { YamlSource } from './yaml-source.js';
import { pointTopics } from '../pipeline/point-topics.js';
import { filterMatches } from '../sources/mqtt-topic-pattern.js';
import { shownBrokerUrl } from '../sources/mqtt-broker-url.js';

/** One subscription of a pipeline's source: its broker, and each filter with where its pattern is written. */
export interface WrittenSubscription {
  readonly url: string;
  readonly filters: ReadonlyArray<{ readonly filter: string; readonly at: SettingPath }>;
}

/** The subscriptions of a pipeline's `mqtt_subscribe` sources. */
export function mqttSubscriptions(pipeline: ResolvedPipeline): WrittenSubscription[] {
  return pipeline.source.links.flatMap((link) => (link.transport === 'push' && link.mqtt
    ? [{ url: link.mqtt.broker.url, filters: link.mqtt.topics.map((t) => ({ filter: t.filter, at: t.at })) }]
    : []));
}

/** A topic the gateway publishes, and what makes it publish there. */
interface Published {
  readonly topic: string;
  readonly by: string;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'mqtt:': 1883, 'mqtts:': 8883, 'ws:': 80, 'wss:': 443 };
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[?::1\]?)$/i;
/** This host by another spelling: any address (0.0.0.0, ::) connects to it, as do IPv4-mapped loopback addresses. */
const THIS_HOST = /^\[(::|::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}|::ffff:0:0)\]$/i;

/**
 * An IPv4 address as inet_aton (and so getaddrinfo, which MQTT.js's connect goes through) reads
 * it: one to four parts, decimal, 0x hex or 0 octal (127.1, 0x7f000001, 2130706433 are 127.0.0.1).
 * A URL of a scheme other than http's leaves such a host as written; undefined when it is a name.
 */
function ipv4Of(host: string): string | undefined {
  const parts = host.split('.');
  if (parts.length > 4 || !parts.every((p) => /^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/i.test(p))) return undefined;
  const values = parts.map((p) => (/^0x/i.test(p) ? parseInt(p.slice(2), 16) : /^0[0-7]+$/.test(p) ? parseInt(p, 8) : Number(p)));
  const last = values.pop()!;
  if (values.some((v) => v > 255) || last >= 2 ** (8 * (4 - values.length))) return undefined;
  const n = values.reduce((acc, v, i) => acc + v * 2 ** (8 * (3 - i)), 0) + last;
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** host:port of a broker URL, loopback names and addresses as one; undefined for a URL that does not parse. */
export function brokerKey(url: string): string | undefined {
  try {
    const u = new URL(url);
    // A final dot names the same host (an absolute DNS name).
    const name = u.hostname.toLowerCase().replace(/\.$/, '');
    const ipv4 = ipv4Of(name);
    const spelled = ipv4 ?? name;
    const host = LOOPBACK.test(spelled) || THIS_HOST.test(spelled) || spelled === '0.0.0.0' ? 'loopback' : spelled;
    const port = u.port === '' ? DEFAULT_PORTS[u.protocol] : Number(u.port);
    return `${host}:${port}`;
  } catch {
    return undefined;
  }
}

export function checkSubscriptionLoops(
  config: ResolvedGateway,
  subscriptionsOf: (pipeline: ResolvedPipeline) => readonly WrittenSubscription[],
  sourceOf: (file: string) => YamlSource,
): ConfigProblem[] {
  const published = publishedByBroker(config);
  const problems: ConfigProblem[] = [];
  for (const pipeline of config.pipelines) {
    for (const subscription of subscriptionsOf(pipeline)) {
      const key = brokerKey(subscription.url);
      const topics = key === undefined ? undefined : published.get(key);
      if (!topics) continue;
      for (const { filter, at } of subscription.filters) {
        const caught = topics.find((p) => filterMatches(filter, p.topic));
        if (!caught) continue;
        problems.push(sourceOf(pipeline.file).problem(at, 'WG_ERR_CONFIG_SUBSCRIPTION_LOOP', {
          detail: `the filter ${filter} catches ${caught.topic}, which ${caught.by} publishes to ${shownBrokerUrl(subscription.url)}, the broker this source subscribes at: each message would come back in as a reading`,
        }));
      }
    }
  }
  return problems;
}

/** Every topic the gateway publishes to an MQTT broker, by broker (brokerKey). */
function publishedByBroker(config: ResolvedGateway): Map<string, Published[]> {
  const byUplink = new Map<string, Published[]>();
  const add = (uplink: string, topic: string, by: string) => {
    let list = byUplink.get(uplink);
    if (!list) byUplink.set(uplink, (list = []));
    list.push({ topic, by });
  };
  for (const pipeline of config.pipelines) {
    const { byPoint, many } = pointTopics(pipeline, config.id);
    const by = `pipeline ${pipeline.name} (publish.topic)`;
    for (const topic of new Set([...byPoint, many])) add(pipeline.publish.uplink, topic, by);
  }
  for (const uplink of config.uplinks) {
    if (uplink.transport !== 'mqtt') continue;
    if (uplink.status) add(uplink.name, uplink.status.topic, `uplink ${uplink.name} (status.topic)`);
    if (uplink.outbox.reportTopic !== null) add(uplink.name, uplink.outbox.reportTopic, `uplink ${uplink.name} (outbox.report_topic)`);
  }
  if (config.fleet) add(config.fleet.uplink, config.fleet.statusTopic, 'the fleet client (fleet status)');
  const byBroker = new Map<string, Published[]>();
  for (const uplink of config.uplinks) {
    const key = uplink.transport === 'mqtt' ? brokerKey(uplink.url) : undefined;
    const topics = byUplink.get(uplink.name);
    if (key === undefined || !topics) continue;
    byBroker.set(key, [...(byBroker.get(key) ?? []), ...topics]);
  }
  return byBroker;
}
