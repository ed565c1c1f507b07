/**
 * The topics an uplink publishes for the gateway itself rather than for a pipeline: the MQTT status
 * topic (mqtt-status-settings.ts) and the outbox's drop report (outbox-settings.ts). Both know the
 * placeholders {gateway} and {uplink} only; one check, so that the two cannot drift apart.
 */
export const GATEWAY_TOPIC_PLACEHOLDERS = ['gateway', 'uplink'] as const;

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** What is wrong with such a topic, phrased to follow the setting name; undefined when it is usable. */
export function gatewayTopicFault(topic: string): string | undefined {
  const unknown = [...topic.matchAll(PLACEHOLDER)].map((m) => m[1]!).filter((p) => !(GATEWAY_TOPIC_PLACEHOLDERS as readonly string[]).includes(p));
  if (unknown.length > 0) return `knows only {gateway} and {uplink} (got {${unknown.join('}, {')}})`;
  const literal = topic.replace(PLACEHOLDER, '');
  // A brace left over is a placeholder mistyped: it would be published as it stands.
  if (/[{}]/.test(literal)) return 'has an unmatched "{" or "}"';
  if (/[#+]/.test(literal)) return 'is a topic to publish to: no wildcards # or +';
  if (literal.includes('\u0000')) return 'must not contain a NUL character';
  return undefined;
}

/** The topic with its placeholders filled in. */
export function renderGatewayTopic(topic: string, names: { gateway: string; uplink: string }): string {
  return topic.replaceAll('{gateway}', names.gateway).replaceAll('{uplink}', names.uplink);
}
