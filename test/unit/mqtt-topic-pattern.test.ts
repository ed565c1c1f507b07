/**
 * The `mqtt_subscribe` source's topic patterns: what the broker is asked for, which names a topic
 * gives, and filter matching as a broker does it. The filter cases are the examples of MQTT 3.1.1
 * §4.7.1 and §4.7.2, with the spec's verdicts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterMatches, matchTopic, parseTopicPattern, type TopicPattern } from '../../src/host/sources/mqtt-topic-pattern.js';

function pattern(text: string): TopicPattern {
  const parsed = parseTopicPattern(text);
  assert.ok(parsed.ok, `${text}: ${parsed.ok ? '' : parsed.reason}`);
  return parsed.pattern;
}

test('a pattern asks the broker for its filter, placeholders as +', () => {
  assert.equal(pattern('plant/{device}/{point}').filter, 'plant/+/+');
  assert.equal(pattern('{device}/telemetry/#').filter, '+/telemetry/#');
  assert.equal(pattern('site/+/{device}').filter, 'site/+/+');
  assert.equal(pattern('plant/boiler1/temp').filter, 'plant/boiler1/temp');
});

test('a topic gives its placeholders the levels they stand at', () => {
  assert.deepEqual(matchTopic(pattern('plant/{device}/{point}'), 'plant/boiler1/temp'), { device: 'boiler1', point: 'temp' });
  assert.deepEqual(matchTopic(pattern('{point}/of/{device}'), 'temp/of/boiler1'), { device: 'boiler1', point: 'temp' });
  assert.deepEqual(matchTopic(pattern('site/+/{device}'), 'site/hall-3/pump2'), { device: 'pump2' });
  assert.deepEqual(matchTopic(pattern('{device}/telemetry/#'), 'pump2/telemetry/a/b'), { device: 'pump2' });
  assert.deepEqual(matchTopic(pattern('{device}/telemetry/#'), 'pump2/telemetry'), { device: 'pump2' });
});

test('a topic with more, fewer or other levels does not match', () => {
  const p = pattern('plant/{device}/{point}');
  assert.equal(matchTopic(p, 'plant/boiler1'), undefined);
  assert.equal(matchTopic(p, 'plant/boiler1/temp/extra'), undefined);
  assert.equal(matchTopic(p, 'plant/boiler1/temp/'), undefined);
  assert.equal(matchTopic(p, 'other/boiler1/temp'), undefined);
  assert.equal(matchTopic(p, ''), undefined);
  // An empty level is a level (MQTT 3.1.1 §4.7.3): it matches a placeholder, with an empty name.
  assert.deepEqual(matchTopic(p, 'plant//temp'), { device: '', point: 'temp' });
});

test('a pattern the broker could not be asked for, or that names a thing twice, is refused with why', () => {
  const reason = (text: string) => {
    const parsed = parseTopicPattern(text);
    assert.ok(!parsed.ok, `${text} should be refused`);
    return parsed.reason;
  };
  assert.match(reason('plant/{device}/{device}'), /names \{device\} twice/);
  assert.match(reason('plant/{device}-data/{point}'), /whole level/);
  assert.match(reason('plant/{unit}/{point}'), /unknown placeholder \{unit\}/);
  assert.match(reason('plant/#/{point}'), /"#" only as the last level/);
  assert.match(reason('plant/a+b'), /only as a whole level/);
  assert.match(reason(''), /must not be empty/);
  assert.match(reason('plant/\u0000'), /NUL/);
});

test('filters match topics as MQTT 3.1.1 §4.7.1 says', () => {
  // §4.7.1.2, multi-level wildcard
  assert.ok(filterMatches('sport/tennis/player1/#', 'sport/tennis/player1'));
  assert.ok(filterMatches('sport/tennis/player1/#', 'sport/tennis/player1/ranking'));
  assert.ok(filterMatches('sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon'));
  assert.ok(filterMatches('sport/#', 'sport'));
  // §4.7.1.3, single-level wildcard
  assert.ok(filterMatches('sport/tennis/+', 'sport/tennis/player1'));
  assert.ok(filterMatches('sport/tennis/+', 'sport/tennis/player2'));
  assert.ok(!filterMatches('sport/tennis/+', 'sport/tennis/player1/ranking'));
  assert.ok(!filterMatches('sport/+', 'sport'));
  assert.ok(filterMatches('sport/+', 'sport/'));
  assert.ok(filterMatches('+/+', '/finance'));
  assert.ok(filterMatches('/+', '/finance'));
  assert.ok(!filterMatches('+', '/finance'));
});

test('a filter that starts with a wildcard does not match a $ topic (MQTT 3.1.1 §4.7.2)', () => {
  assert.ok(!filterMatches('#', '$SYS/broker/clients'));
  assert.ok(!filterMatches('+/monitor/Clients', '$SYS/monitor/Clients'));
  assert.ok(filterMatches('$SYS/#', '$SYS/monitor/Clients'));
  assert.ok(filterMatches('$SYS/monitor/+', '$SYS/monitor/Clients'));
});

// hostile8b: a shared subscription ($share/<group>/<filter>, MQTT 5 §4.8.2) is delivered under the
// message's own topic, without the prefix (§4.8.2: "the Topic Name in the PUBLISH is the one
// published"). Before, the pattern's levels began at "$share": every message was refused as naming
// nothing (and, at QoS 1, acknowledged and gone), and the loop check never saw the filter catch anything.
test('hostile8b: a $share/<group>/ pattern is asked for as written and matched on the levels after the prefix', () => {
  const shared = pattern('$share/gateways/plant/{device}/{point}');
  assert.equal(shared.filter, '$share/gateways/plant/+/+');
  assert.deepEqual(matchTopic(shared, 'plant/boiler1/temp'), { device: 'boiler1', point: 'temp' });
  assert.equal(matchTopic(shared, '$share/gateways/plant/boiler1/temp'), undefined);
  // The loop check's question: does the shared filter catch out/gw1/boiler1/temp? It does, as out/# does.
  assert.equal(filterMatches('$share/g/out/#', 'out/gw1/boiler1/temp'), true);
  assert.equal(filterMatches('$share/g/plant/+', 'out/gw1'), false);
  for (const bad of ['$share', '$share/', '$share//plant/{device}', '$share/g+/plant/{device}', '$share/g/']) {
    const parsed = parseTopicPattern(bad);
    assert.equal(parsed.ok, false, bad);
  }
});
