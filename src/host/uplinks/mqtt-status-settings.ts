/**
 * The `status:` block of an MQTT uplink: the topic where the gateway says whether it is there
 * (retained, QoS 1), and the three words it uses. `online` on every connection, `offline` as the last
 * will (published by the broker when the connection is lost without a goodbye: a crash, a kill, a power
 * cut, a dead link), `stopped` published by the gateway itself before a planned stop. `stopped` is
 * `offline` unless set: availability consumers (a dashboard, Home Assistant's `payload_not_available`)
 * know two words, and an operator who wants a planned stop told apart from a lost gateway sets it.
 */
import type { SettingChecks } from '../config/setting-checks.js';
import type { SettingPath } from '../config/setting-path.js';
import type { MqttStatusOptions } from '../sinks/mqtt-options.js';
import { gatewayTopicFault, renderGatewayTopic } from './gateway-topic.js';
import type { SchemaDocument } from '../config/schema-document.js';

// An empty retained message deletes the topic's retained value: no word may be empty.
function word(description: string): { readonly type: 'string'; readonly minLength: 1; readonly description: string };
function word(description: string, defaultValue: string): { readonly type: 'string'; readonly minLength: 1; readonly description: string; readonly default: string };
function word(description: string, defaultValue?: string) {
  return { type: 'string', minLength: 1, description, ...(defaultValue !== undefined && { default: defaultValue }) } as const;
}

export const mqttStatusSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: "the gateway's retained online/offline status and last will",
  properties: {
    topic: {
      type: ['string', 'boolean'],
      minLength: 1,
      default: 'wasmgate/{gateway}/status',
      description: 'where the status goes, retained, QoS 1 ({gateway}, {uplink}); false: no status and no will',
    },
    online: word('published on every connection', 'online'),
    offline: word('the last will: published by the broker when the connection is lost without a DISCONNECT', 'offline'),
    stopped: word('published by the gateway before a planned stop; default: the offline word'),
  },
} as const;

export type MqttStatusDocument = SchemaDocument<typeof mqttStatusSchema>;

export function checkMqttStatus(doc: MqttStatusDocument, at: SettingPath, checks: SettingChecks): void {
  if (!checks.intact(at)) return; // `status: ~` or a list: the schema said so, and there is nothing to look into
  if (doc.topic === true) checks.invalid([...at, 'topic'], 'is a topic, or false for no status (true says neither)');
  if (typeof doc.topic === 'string' && checks.clean([...at, 'topic'])) {
    const fault = gatewayTopicFault(doc.topic);
    if (fault !== undefined) checks.invalid([...at, 'topic'], fault);
  }
  if (doc.online === doc.offline && checks.clean([...at, 'offline'])) {
    const written = checks.source.has([...at, 'offline']) ? 'offline' : 'online';
    const other = written === 'offline' ? 'online' : 'offline';
    checks.conflict([...at, written], [...at, other], `online and offline are both "${doc.online}": nobody could tell them apart`);
  }
}

export function resolveMqttStatus(doc: MqttStatusDocument, names: { gateway: string; uplink: string }): MqttStatusOptions | null {
  if (typeof doc.topic !== 'string') return null;
  return {
    topic: renderGatewayTopic(doc.topic, names),
    online: doc.online,
    offline: doc.offline,
    stopped: doc.stopped ?? doc.offline,
  };
}
