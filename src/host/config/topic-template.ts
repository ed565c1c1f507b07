/**
 * The `publish.topic` template: `wasmgate/{gateway}/{pipeline}/{point}`. Checked at load (unknown
 * placeholders, MQTT wildcards, two points on one topic) and rendered per message by the uplink.
 */

export const TOPIC_PLACEHOLDERS = ['gateway', 'pipeline', 'device', 'point', 'address', 'function'] as const;
export type TopicPlaceholder = (typeof TOPIC_PLACEHOLDERS)[number];

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** What is wrong with a template, each phrased to follow the setting name; empty when it is usable. */
export function topicTemplateFaults(template: string): { unknown: string[]; other: string[] } {
  const unknown = [...template.matchAll(PLACEHOLDER)]
    .map((m) => m[1] as string)
    .filter((name) => !(TOPIC_PLACEHOLDERS as readonly string[]).includes(name));
  const other: string[] = [];
  const literal = template.replace(PLACEHOLDER, '');
  if (/[{}]/.test(literal)) other.push('has an unmatched "{" or "}"');
  // A publish topic names one topic: MQTT forbids the subscription wildcards in it.
  if (/[+#]/.test(literal)) other.push('must not contain the MQTT wildcards "+" or "#"');
  if (literal.includes('\u0000')) other.push('must not contain a NUL character');
  return { unknown, other };
}

/** Fills the placeholders; `device`, `point`, `address` and `function` are empty for a message about many points. */
export function renderTopic(template: string, values: Readonly<Record<TopicPlaceholder, string>>): string {
  return template.replace(PLACEHOLDER, (_, name: string) => values[name as TopicPlaceholder] ?? '');
}
