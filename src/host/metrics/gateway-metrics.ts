/**
 * Every metric the gateway exposes, in one table (docs/metrics.md lists them): what each is, its
 * labels, and where in the status it comes from. Labels are bounded by the configuration: pipeline,
 * device, link, uplink, step, plugin and rule; never a point (a thousand points would be a thousand series
 * per metric). Names follow Prometheus conventions: `wasmgate_` prefix, base units, `_total` on
 * counters.
 */
import type { GatewayStatus } from '../gateway.js';
import type { AssembledPipelineStatus } from '../pipeline/pipeline-assembly.js';
import type { DeviceStatus } from '../poll/device-poller.js';
import type { LinkStatus } from '../poll/link-arbiter.js';
import { PUSH_REFUSALS, type PushSourceStatus } from '../sources/push-source.js';
import { histogramSamples, type MetricDefinition, type Sample } from './snapshot-metric.js';

type Uplink = GatewayStatus['uplinks'][number];
type Step = AssembledPipelineStatus['steps'][number];

type RuleStatus = AssembledPipelineStatus['rules'][number];

/** One series per rule of each pipeline: rules are declared in the configuration, so bounded by it. */
const perRule = (status: GatewayStatus, value: (r: RuleStatus) => number): Sample[] =>
  status.pipelines.flatMap((p) => p.rules.map((r) => ({ labels: { pipeline: p.name, rule: r.name }, value: value(r) })));

const WRITE_OUTCOMES = ['written', 'failed', 'interlocked', 'rate-limited', 'dry-run'] as const;

const STAGE_KEYS = { ingress_wait: 'ingressWait', chain: 'chain', egress_wait: 'egressWait' } as const;

const perPipeline = (status: GatewayStatus, value: (p: AssembledPipelineStatus) => number): Sample[] =>
  status.pipelines.map((p) => ({ labels: { pipeline: p.name }, value: value(p) }));

const perDevice = (status: GatewayStatus, value: (d: DeviceStatus) => number): Sample[] =>
  status.pipelines.flatMap((p) => p.devices.map((d) => ({ labels: { pipeline: p.name, device: d.device }, value: value(d) })));

/**
 * One series per step and plugin version: the running version's counters, plus those of the versions
 * a swap or a rollback retired (pipeline-runner.ts, retiredSteps), added up when a version ran twice,
 * so that a counter of one version never goes down across a swap.
 */
function perStep(status: GatewayStatus, value: (s: Step) => number): Sample[] {
  const out = new Map<string, Sample>();
  for (const p of status.pipelines) {
    const retired = (p.retiredSteps ?? []).map((r) => ({ step: r.step, counters: { ...r, version: r.version ?? '' } as Step }));
    for (const { step, counters } of [...p.steps.map((s, i) => ({ step: i, counters: s })), ...retired]) {
      const labels = { pipeline: p.name, step: step + 1, plugin: counters.plugin, version: counters.version };
      const key = JSON.stringify(labels);
      const sample = out.get(key);
      if (sample) out.set(key, { labels, value: sample.value + value(counters) });
      else out.set(key, { labels, value: value(counters) });
    }
  }
  return [...out.values()];
}

const perUplink = (status: GatewayStatus, value: (u: Uplink) => number | undefined): Sample[] =>
  status.uplinks.flatMap((u) => {
    const v = value(u);
    return v === undefined ? [] : [{ labels: { uplink: u.name }, value: v }];
  });

/** A link shared by pipelines appears in each one's status; it is one link. */
function links(status: GatewayStatus): LinkStatus[] {
  const byName = new Map<string, LinkStatus>();
  for (const p of status.pipelines) for (const l of p.links) byName.set(l.link, l);
  return [...byName.values()];
}
const perLink = (status: GatewayStatus, value: (l: LinkStatus) => number): Sample[] =>
  links(status).map((l) => ({ labels: { link: l.link, kind: l.kind }, value: value(l) }));

/** Each push source of each pipeline (a CoAP server, an MQTT subscription): labelled by its link name and kind. */
const perPushSource = (status: GatewayStatus, value: (p: PushSourceStatus) => number): Sample[] =>
  status.pipelines.flatMap((p) => (p.pushSources ?? []).map((src) => ({ labels: { pipeline: p.name, link: src.name, kind: src.kind }, value: value(src) })));

/** One of an mqtt_subscribe source's own counters (sources/mqtt-subscription.ts). */
const perMqttSubscription = (status: GatewayStatus, key: string): Sample[] =>
  perPushSource({ ...status, pipelines: status.pipelines.map((p) => ({ ...p, pushSources: (p.pushSources ?? []).filter((src) => src.kind === 'mqtt_subscribe') })) }, (src) => src.own[key] ?? 0);

const counter = (name: string, help: string, samples: MetricDefinition['samples']): MetricDefinition => ({ name, help, type: 'counter', samples });
const gauge = (name: string, help: string, samples: MetricDefinition['samples']): MetricDefinition => ({ name, help, type: 'gauge', samples });

const DEVICE_COUNTERS = [
  ['polls', 'polls', 'poll cycles started'],
  ['requests', 'requests', 'requests sent, retries included'],
  ['responses', 'responses', 'answers received'],
  ['timeouts', 'timeouts', 'requests that got no answer in time'],
  ['retries', 'retries', 'requests sent again after a timeout'],
  ['linkErrors', 'link_errors', 'exchanges lost to the link (closed, refused, reset)'],
  ['framingErrors', 'framing_errors', 'answers that were not a valid frame (CRC, length, transaction id)'],
  ['overruns', 'overruns', 'poll cycles that started late because the previous one ran past its interval'],
  ['cyclesSkipped', 'cycles_skipped', 'poll cycles not run (worker restarting, quarantine excluded)'],
  ['quarantinedCycles', 'quarantined_cycles', 'poll cycles skipped while the device was quarantined'],
  ['pluginErrors', 'plugin_errors', 'requests the decoder could not build or frame'],
] as const;

const STEP_COUNTERS = [
  ['batches', 'batches', 'batches the step ran'],
  ['itemsIn', 'items_in', 'samples in (frames, for a decoder)'],
  ['itemsOut', 'items_out', 'samples out (messages, for an encoder)'],
  ['traps', 'traps', 'calls that trapped (contained; the batch dropped)'],
  ['errors', 'errors', 'calls that returned an error'],
  ['reinstantiations', 'reinstantiations', 'fresh instances after a trap'],
] as const;

export const GATEWAY_METRICS: readonly MetricDefinition[] = [
  gauge('wasmgate_info', 'the running gateway; always 1', (s) => [{ labels: { gateway: s.gateway }, value: 1 }]),

  // Pipelines.
  gauge('wasmgate_pipeline_running', '1 while the pipeline runs, 0 while it starts, restarts, failed or stops', (s) => perPipeline(s, (p) => (p.state === 'running' ? 1 : 0))),
  counter('wasmgate_pipeline_batches_total', 'batches the worker completed', (s) => perPipeline(s, (p) => p.batchesDone)),
  counter('wasmgate_pipeline_batches_dropped_total', 'batches dropped (a trap, a hung plugin, a dead worker)', (s) => perPipeline(s, (p) => p.batchesDropped)),
  counter('wasmgate_pipeline_watchdog_kills_total', 'workers killed by the watchdog for a batch past its deadline', (s) => perPipeline(s, (p) => p.watchdogKills)),
  counter('wasmgate_pipeline_worker_restarts_total', 'worker threads started again', (s) => perPipeline(s, (p) => p.workerRestarts)),
  counter('wasmgate_pipeline_messages_total', 'messages the pipeline handed to the outbox', (s) => perPipeline(s, (p) => p.published)),
  counter('wasmgate_pipeline_swaps_total', 'steps swapped to a new version in the running worker', (s) => perPipeline(s, (p) => p.swaps?.swaps ?? 0)),
  counter('wasmgate_pipeline_swaps_refused_total', 'swaps that failed (canary, configure, worker gone); the old version stayed live', (s) => perPipeline(s, (p) => p.swaps?.refused ?? 0)),
  counter('wasmgate_pipeline_rollbacks_total', 'swapped steps rolled back to their previous version after a crash loop', (s) => perPipeline(s, (p) => p.swaps?.rollbacks ?? 0)),
  counter('wasmgate_pipeline_back_pressure_waits_total', 'times the poller waited for room in the ingress ring', (s) => perPipeline(s, (p) => p.backPressureWaits)),
  gauge('wasmgate_ring_used_bytes', 'bytes of records not yet released in a ring', (s) => s.pipelines.flatMap((p) => [
    { labels: { pipeline: p.name, ring: 'ingress' }, value: p.ingress.usedBytes }, { labels: { pipeline: p.name, ring: 'egress' }, value: p.egress.usedBytes },
  ])),
  gauge('wasmgate_ring_capacity_bytes', 'size of a ring', (s) => s.pipelines.flatMap((p) => [
    { labels: { pipeline: p.name, ring: 'ingress' }, value: p.ingress.capacity }, { labels: { pipeline: p.name, ring: 'egress' }, value: p.egress.capacity },
  ])),
  counter('wasmgate_ring_full_total', 'reservations refused because the ring was full', (s) => s.pipelines.flatMap((p) => [
    { labels: { pipeline: p.name, ring: 'ingress' }, value: p.ingress.fullEvents }, { labels: { pipeline: p.name, ring: 'egress' }, value: p.egress.fullEvents },
  ])),

  {
    name: 'wasmgate_pipeline_stage_seconds', help: 'time inside the gateway per stage: ingress ring wait (worker wake-up included), chain call, egress ring wait', type: 'histogram',
    samples: (s) => s.pipelines.flatMap((p) => (['ingress_wait', 'chain', 'egress_wait'] as const).flatMap((stage) =>
      histogramSamples('wasmgate_pipeline_stage_seconds', { pipeline: p.name, stage }, p.stages[STAGE_KEYS[stage]]))),
  },

  // Local rules (docs/rules.md), per pipeline and rule.
  gauge('wasmgate_rules_loaded', 'rules the pipeline runs', (s) => perPipeline(s, (p) => p.rules.length)),
  gauge('wasmgate_rule_active', '1 while the rule\'s alarm is active (fired, not cleared)', (s) => perRule(s, (r) => (r.active ? 1 : 0))),
  counter('wasmgate_rule_fires_total', 'times the rule fired', (s) => perRule(s, (r) => r.fired)),
  counter('wasmgate_rule_clears_total', 'times the rule cleared', (s) => perRule(s, (r) => r.cleared)),
  counter('wasmgate_rule_writes_total', 'write attempts of the rule by outcome: written, failed, interlocked, rate-limited, dry-run', (s) => s.pipelines.flatMap((p) => p.rules.flatMap((r) =>
    WRITE_OUTCOMES.map((outcome) => ({ labels: { pipeline: p.name, rule: r.name, outcome }, value: r.writes[outcome] }))))),
  counter('wasmgate_rule_eval_errors_total', 'batches or ticks on which the compiled rules trapped (their events lost, the rules started again as nothing seen)', (s) => perPipeline(s, (p) => p.rulesEvalErrors)),

  // Plugins, per step of each pipeline.
  ...STEP_COUNTERS.map(([key, name, help]) => counter(`wasmgate_plugin_${name}_total`, help, (s) => perStep(s, (step) => step[key]))),
  counter('wasmgate_plugin_busy_seconds_total', 'time spent inside the plugin', (s) => perStep(s, (step) => step.busyNs / 1e9)),

  // Devices.
  ...DEVICE_COUNTERS.map(([key, name, help]) => counter(`wasmgate_device_${name}_total`, help, (s) => perDevice(s, (d) => d[key]))),
  gauge('wasmgate_device_connected', '1 while the link to the device is open', (s) => perDevice(s, (d) => (d.connected ? 1 : 0))),
  gauge('wasmgate_device_quarantined', '1 while the device is quarantined (polled only by probes)', (s) => perDevice(s, (d) => (d.quarantined ? 1 : 0))),
  // Only devices with `cov:`: 1 while they hold their subscriptions, 0 while polled instead.
  gauge('wasmgate_device_cov_subscribed', '1 while a BACnet device holds its COV subscriptions, 0 while it is polled instead', (s) => s.pipelines.flatMap((p) => p.devices.flatMap((d) => (d.cov ? [{ labels: { pipeline: p.name, device: d.device }, value: d.cov.state === 'subscribed' ? 1 : 0 }] : [])))),
  {
    name: 'wasmgate_device_rtt_seconds', help: 'round trip of each answered request', type: 'histogram',
    samples: (s) => s.pipelines.flatMap((p) => p.devices.flatMap((d) => histogramSamples('wasmgate_device_rtt_seconds', { pipeline: p.name, device: d.device }, d.rtt))),
  },

  // Links (a bus, a TCP connection): shared links once.
  gauge('wasmgate_link_connected', '1 while the link is open', (s) => perLink(s, (l) => (l.connected ? 1 : 0))),
  gauge('wasmgate_link_utilisation_ratio', 'share of the time the link was held by a transaction since it started', (s) => perLink(s, (l) => l.utilisation)),
  counter('wasmgate_link_busy_seconds_total', 'time the link was held by a transaction', (s) => perLink(s, (l) => l.busyMs / 1000)),
  counter('wasmgate_link_transactions_total', 'transactions granted the link', (s) => perLink(s, (l) => l.transactions)),

  // Push sources (docs/config.md, coap_server): what devices sent, taken and refused.
  gauge('wasmgate_push_listening', '1 while the push source takes what its devices send', (s) => perPushSource(s, (p) => (p.listening ? 1 : 0))),
  counter('wasmgate_push_accepted_total', 'bodies a push source wrote into the ingress ring (and acknowledged)', (s) => perPushSource(s, (p) => p.accepted)),
  counter('wasmgate_push_accepted_bytes_total', 'bytes of those bodies', (s) => perPushSource(s, (p) => p.acceptedBytes)),
  counter('wasmgate_push_refused_total', 'what a push source refused, by reason (unknown_resource, method, too_large, media_type, rate, queue, stopping, malformed)', (s) =>
    s.pipelines.flatMap((p) => (p.pushSources ?? []).flatMap((src) => PUSH_REFUSALS.map((reason) => ({ labels: { pipeline: p.name, link: src.name, kind: src.kind, reason }, value: src.refused[reason] }))))),
  gauge('wasmgate_push_waiting', 'bodies a push source accepted that wait for room in the ingress ring', (s) => perPushSource(s, (p) => p.waiting)),
  // An MQTT subscription's own (docs/config.md, mqtt_subscribe).
  counter('wasmgate_mqtt_subscribe_received_total', 'PUBLISH packets an mqtt_subscribe source received (accepted, refused or not taken)', (s) => perMqttSubscription(s, 'received')),
  counter('wasmgate_mqtt_subscribe_held_back_total', 'QoS 1 messages that waited, unacknowledged, for a token of the rate (the broker held the ones behind them)', (s) => perMqttSubscription(s, 'held_back')),
  counter('wasmgate_mqtt_subscribe_reconnects_total', 'connection attempts after a lost or refused broker connection', (s) => perMqttSubscription(s, 'reconnects')),

  // Uplinks and their outbox.
  gauge('wasmgate_uplink_connected', '1 while the uplink is connected (CoAP: while exchanges succeed)', (s) => perUplink(s, (u) => (u.state === 'connected' ? 1 : 0))),
  counter('wasmgate_uplink_reconnects_total', 'connection attempts after a lost or refused connection', (s) => perUplink(s, (u) => u.reconnects)),
  counter('wasmgate_uplink_acked_total', 'messages the peer acknowledged (QoS 0: written)', (s) => perUplink(s, (u) => u.acked)),
  counter('wasmgate_uplink_failed_total', 'deliveries that failed (left in the outbox, or refused for good)', (s) => perUplink(s, (u) => u.failed)),
  counter('wasmgate_uplink_replayed_total', 'messages sent after the connection that carried them came up (a backlog)', (s) => perUplink(s, (u) => u.replayed)),
  counter('wasmgate_uplink_unmarked_total', 'messages that could not carry their seq (mark: fields on a payload that is not a JSON object)', (s) => perUplink(s, (u) => u.unmarked)),
  gauge('wasmgate_outbox_messages', 'messages waiting in the outbox', (s) => perUplink(s, (u) => u.outbox?.messages)),
  gauge('wasmgate_outbox_bytes', 'bytes (topics and payloads) waiting in the outbox', (s) => perUplink(s, (u) => u.outbox?.bytes)),
  gauge('wasmgate_outbox_oldest_age_seconds', 'age of the oldest message waiting; 0 when none', (s) => perUplink(s, (u) => (u.outbox ? u.outbox.oldestAgeMs / 1000 : undefined))),
  gauge('wasmgate_outbox_durable', '1 while new messages reach the disk, 0 while the outbox holds them in memory (disk full, read-only)', (s) => perUplink(s, (u) => (u.outbox ? (u.outbox.durable ? 1 : 0) : undefined))),
  counter('wasmgate_outbox_dropped_total', 'messages dropped over a cap, oldest first (cumulative over the outbox file\'s life)', (s) => s.uplinks.flatMap((u) => (u.outbox ? [
    { labels: { uplink: u.name, cap: 'bytes' }, value: u.outbox.droppedByBytes }, { labels: { uplink: u.name, cap: 'age' }, value: u.outbox.droppedByAge },
  ] : []))),
  counter('wasmgate_outbox_dead_letters_total', 'messages the uplink refused for good (cumulative over the outbox file\'s life)', (s) => perUplink(s, (u) => u.outbox?.deadLetters)),
  counter('wasmgate_outbox_delivered_total', 'messages delivered and removed from the outbox', (s) => perUplink(s, (u) => u.outbox?.delivered)),
  counter('wasmgate_outbox_unwritten_total', 'messages delivered before their commit, never written to disk (outbox_commit_delay)', (s) => perUplink(s, (u) => u.outbox?.unwritten)),
  counter('wasmgate_outbox_refused_total', 'messages the outbox could not take (lost)', (s) => perUplink(s, (u) => u.outbox?.refused)),
  {
    name: 'wasmgate_outbox_delivery_seconds', help: 'from a message\'s making to its delivery', type: 'histogram',
    samples: (s) => s.uplinks.flatMap((u) => (u.outbox ? histogramSamples('wasmgate_outbox_delivery_seconds', { uplink: u.name }, u.outbox.deliveryLatency) : [])),
  },
];
