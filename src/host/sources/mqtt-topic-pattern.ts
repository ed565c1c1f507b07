/**
 * A subscription topic pattern of the `mqtt_subscribe` source: MQTT topic levels, some of which name
 * the device (`{device}`) or the point (`{point}`) the message is a reading of, as in
 * `plant/{device}/{point}`. The broker is asked for the pattern as a topic filter with `+` in place
 * of each placeholder (`plant/+/+`); each message's topic is then matched against the pattern here,
 * level by level, and the placeholders' levels taken as the names.
 *
 * A placeholder is a whole level (MQTT's `+` is one: `{device}-data` cannot be asked of a broker).
 * `+` and a final `#` are allowed as in any filter, matching levels whose names are not used.
 *
 * A shared subscription (`$share/<group>/<filter>`, MQTT 5 §4.8.2; mosquitto takes it over 3.1.1 too)
 * is asked of the broker as written, but its messages arrive under their own topics, without the
 * prefix: the levels matched, and the loop check's filter, are those after `$share/<group>/`.
 */

export type PatternLevel =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'device' }
  | { readonly kind: 'point' }
  | { readonly kind: 'any' }
  /** `#`: the rest of the topic, zero or more levels; only last. */
  | { readonly kind: 'rest' };

export interface TopicPattern {
  /** As written. */
  readonly pattern: string;
  readonly levels: readonly PatternLevel[];
  /** What the broker is asked for: placeholders as `+` (with its `$share/<group>/` prefix). */
  readonly filter: string;
  /** The `$share/<group>/` a shared subscription is asked with, else ''. */
  readonly share: string;
  readonly hasDevice: boolean;
  readonly hasPoint: boolean;
}

/** The longest topic MQTT carries: a UTF-8 string with a 16-bit length (MQTT 3.1.1 §1.5.3). */
export const MQTT_MAX_TOPIC_BYTES = 65_535;

/** The pattern, or what is wrong with it, phrased to follow the setting's name. */
export function parseTopicPattern(pattern: string): { ok: true; pattern: TopicPattern } | { ok: false; reason: string } {
  if (pattern === '') return { ok: false, reason: 'must not be empty' };
  if (Buffer.byteLength(pattern) > MQTT_MAX_TOPIC_BYTES) return { ok: false, reason: `is longer than the ${MQTT_MAX_TOPIC_BYTES} bytes an MQTT topic filter can be` };
  if (pattern.includes('\u0000')) return { ok: false, reason: 'must not contain a NUL character (MQTT forbids it in a topic filter)' };
  const shared = /^\$share\/([^/]*)\/(.*)$/s.exec(pattern) ?? (pattern.startsWith('$share/') || pattern === '$share' ? [] : null);
  if (shared && (shared[1] === undefined || shared[1] === '' || /[+#]/.test(shared[1]) || shared[2] === '')) {
    return { ok: false, reason: 'has "$share" without a group name and a filter: a shared subscription is $share/<group>/<filter>, the group without + or #' };
  }
  const share = shared ? `$share/${shared[1]}/` : '';
  const written = (shared ? shared[2]! : pattern).split('/');
  const levels: PatternLevel[] = [];
  const seen = { device: 0, point: 0 };
  for (const [i, text] of written.entries()) {
    if (text === '{device}' || text === '{point}') {
      const name = text === '{device}' ? 'device' : 'point';
      if (++seen[name] > 1) return { ok: false, reason: `names {${name}} twice: one level names the ${name}` };
      levels.push({ kind: name });
    } else if (text === '+') {
      levels.push({ kind: 'any' });
    } else if (text === '#') {
      if (i !== written.length - 1) return { ok: false, reason: 'has "#" before its last level: MQTT allows "#" only as the last level of a filter' };
      levels.push({ kind: 'rest' });
    } else if (/[{}]/.test(text)) {
      const unknown = /\{([^{}]*)\}/.exec(text)?.[1];
      if (unknown !== undefined && unknown !== 'device' && unknown !== 'point') return { ok: false, reason: `has the unknown placeholder {${unknown}}: a level is {device}, {point}, +, # or literal text` };
      return { ok: false, reason: `has "${text}": a placeholder is a whole level ({device}, not part of one), as MQTT's + is` };
    } else if (/[+#]/.test(text)) {
      return { ok: false, reason: `has "${text}": MQTT allows "+" and "#" only as a whole level` };
    } else {
      levels.push({ kind: 'literal', text });
    }
  }
  const filter = share + levels.map((l) => (l.kind === 'literal' ? l.text : l.kind === 'rest' ? '#' : '+')).join('/');
  return { ok: true, pattern: { pattern, levels, filter, share, hasDevice: seen.device > 0, hasPoint: seen.point > 0 } };
}

/** The names a topic gives its placeholders; undefined when the topic does not fit the pattern. */
export interface TopicNames {
  readonly device?: string;
  readonly point?: string;
}

export function matchTopic(pattern: TopicPattern, topic: string): TopicNames | undefined {
  const levels = pattern.levels;
  let device: string | undefined;
  let point: string | undefined;
  let at = 0;
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.kind === 'rest') return names(device, point);
    // The topic's next level: from `at` to the next '/', or to its end.
    if (at > topic.length) return undefined;
    let end = topic.indexOf('/', at);
    if (end < 0) end = topic.length;
    const text = topic.slice(at, end);
    if (level.kind === 'literal' && text !== level.text) return undefined;
    if (level.kind === 'device') device = text;
    if (level.kind === 'point') point = text;
    at = end + 1;
  }
  // Every level of the topic taken, and no more: `at` is one past its end.
  return at === topic.length + 1 ? names(device, point) : undefined;
}

function names(device: string | undefined, point: string | undefined): TopicNames {
  return { ...(device !== undefined ? { device } : {}), ...(point !== undefined ? { point } : {}) };
}

/**
 * Whether an MQTT topic filter (wildcards `+`, `#`) matches a topic, as a broker decides it
 * (MQTT 3.1.1 §4.7): `#` matches the parent level too (`a/#` matches `a`), and a filter starting
 * with a wildcard does not match a topic starting with `$`.
 */
export function filterMatches(written: string, topic: string): boolean {
  // A shared subscription's messages are those of the filter after $share/<group>/.
  const filter = /^\$share\/[^/]*\//.test(written) ? written.replace(/^\$share\/[^/]*\//, '') : written;
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
