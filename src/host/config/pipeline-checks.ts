/**
 * Checks of a pipeline file that a schema cannot express: unit conversions, ring sizes, device names,
 * the shape of each step, the topic template and the uplink it names, device names across source
 * kinds. Plugin lookups and step settings are step-checks.ts; each source kind checks its own devices
 * and their points (src/host/sources).
 */
import { MAX_CAPACITY, MIN_CAPACITY } from '../ring/layout.js';
import { WASM_PAGE_BYTES } from '../engine/memory-limit.js';
import type { PipelineDocument } from './pipeline-schema.js';
import { checkProfiles } from '../sources/modbus-points.js';
import { writtenKinds } from '../sources/source-kinds.js';
import type { WrittenDevice } from '../sources/source-kind.js';
import type { SettingChecks } from './setting-checks.js';
import type { SettingPath } from './setting-path.js';
import { TOPIC_PLACEHOLDERS, topicTemplateFaults } from './topic-template.js';
import { isPowerOfTwo } from './units.js';


/**
 * `uplinks` is the set of uplink names of the gateway file, or undefined when that file is itself
 * broken (then publish.uplink cannot be checked, and is not reported). A value the schema refused is
 * not looked at again (see SettingChecks.clean).
 */
export async function checkPipeline(doc: PipelineDocument, uplinks: ReadonlySet<string> | undefined, checks: SettingChecks): Promise<void> {
  checkRun(doc, checks);
  const profiles = checks.intact(['profiles']) ? doc.profiles : undefined;
  if (profiles !== undefined) checkProfiles(profiles, checks);
  // A kind's checks may read files (an MQTT broker's TLS files and password file): awaited here.
  const pending = checks.intact(['source']) ? checkSource(doc, profiles, checks) : [];
  if (checks.intact(['steps'])) checkStepShapes(doc, checks);
  checkPublish(doc, uplinks, checks);
  await Promise.all(pending);
}

function checkRun(doc: PipelineDocument, checks: SettingChecks): void {
  if (!checks.intact(['pipeline'])) return;
  checks.duration(['pipeline', 'batch', 'deadline'], doc.pipeline.batch?.deadline, true, true);
  for (const ring of ['ingress', 'egress'] as const) {
    const path: SettingPath = ['pipeline', 'ring', ring];
    const bytes = checks.size(path, doc.pipeline.ring?.[ring]);
    if (bytes === undefined) continue;
    if (!isPowerOfTwo(bytes)) {
      const below = 2 ** Math.floor(Math.log2(bytes));
      checks.invalid(path, `must be a power of two (got ${bytes} bytes; nearest are ${below} and ${below * 2})`);
    } else if (bytes < MIN_CAPACITY || bytes > MAX_CAPACITY) {
      // The ring's own bounds: refused here so that the operator hears of it at load, with a position.
      checks.invalid(path, `must be from ${MIN_CAPACITY}B to ${MAX_CAPACITY / 2 ** 30}GiB (got ${bytes} bytes)`);
    }
  }
  const memory = checks.size(['pipeline', 'plugin_memory'], doc.pipeline.plugin_memory);
  // WebAssembly memory comes in 64 KiB pages, and a 32-bit memory has at most 65536 of them.
  if (memory !== undefined && (memory < WASM_PAGE_BYTES || memory > 65536 * WASM_PAGE_BYTES)) {
    checks.invalid(['pipeline', 'plugin_memory'], `must be from 64KiB to 4GiB (got ${memory} bytes)`);
  }
}

function checkSource(doc: PipelineDocument, profiles: PipelineDocument['profiles'] | undefined, checks: SettingChecks): Promise<void>[] {
  const pending: Promise<void>[] = [];
  const firstByName = new Map<string, SettingPath>();
  const written: WrittenDevice[] = [];
  // In the order written, so that a duplicate device name is reported at the later of the two.
  for (const kind of writtenKinds(doc.source)) {
    const at: SettingPath = ['source', kind.name];
    const kindDoc = doc.source[kind.name];
    // A kind the schema refused has been reported already; there is nothing more to check in it.
    if (kindDoc === undefined || !checks.intact(at)) continue;
    const checking = kind.check(kindDoc, at, checks, profiles);
    if (checking) pending.push(checking);
    for (const device of kind.devices(kindDoc, at, checks, profiles)) {
      written.push(device);
      const nameAt: SettingPath = [...device.at, 'name'];
      if (!checks.clean(nameAt)) continue;
      const first = firstByName.get(device.name);
      if (first) checks.report(nameAt, 'WG_ERR_CONFIG_DUPLICATE_NAME', { kind: 'device', name: device.name, detail: checks.describe(first) });
      else firstByName.set(device.name, device.at);
    }
  }
  checkTopicsApart(doc, written, checks);
  checkLinksApart(written, checks);
  return pending;
}

/**
 * Links are named in status and logs, so two links may not share a name (a `connection` named like
 * another device, a bus named like a Modbus TCP device); and two links to one place would be two
 * arbiters on one bus, sending over each other: said as a hint (one line cannot be told from two ports
 * of one device server). Several Modbus TCP connections to one host are normal.
 */
function checkLinksApart(devices: readonly WrittenDevice[], checks: SettingChecks): void {
  const byName = new Map<string, WrittenDevice>();
  const byEndpoint = new Map<string, WrittenDevice>();
  const told = new Set<string>();
  const kindOf = (key: string) => key.slice(0, key.indexOf('/'));
  for (const device of devices) {
    const link = device.link;
    if (!link) continue;
    const named = byName.get(link.name);
    // Two buses of one kind with one name are a duplicate bus name, reported at the bus already.
    const sameKindBuses = named !== undefined && kindOf(named.link!.key) === kindOf(link.key) && link.key.includes('/bus/') && named.link!.key.includes('/bus/');
    if (named && named.link!.key !== link.key && !sameKindBuses && !told.has(link.key)) {
      told.add(link.key);
      checks.invalid([...device.at, 'name'], `device ${device.name} is on a link named ${link.name}, and ${checks.describe(named.at)} is on another link of that name: links are told apart by name in status and logs, so rename the connection, the bus or the device`);
    } else if (!named) byName.set(link.name, device);
    const there = byEndpoint.get(link.endpoint);
    // Several Modbus TCP connections to one gateway are fine (it serves them in turn); a bus is one line.
    const aBus = link.key.includes('/bus/') || there?.link!.key.includes('/bus/');
    if (there && there.link!.key !== link.key && aBus && !told.has(`at ${link.key}`)) {
      told.add(`at ${link.key}`);
      checks.hint([...device.at, 'name'], `link ${link.name} goes to ${link.endpoint}, as link ${there.link!.name} does: two links to one line are two arbiters sending over each other; put the devices on one bus or connection`);
    } else if (!there) byEndpoint.set(link.endpoint, device);
  }
}

/**
 * Point names are unique per device, so two devices (ten meters of one profile) have points of the
 * same name: a topic without {device} would publish them over each other.
 */
function checkTopicsApart(doc: PipelineDocument, devices: readonly WrittenDevice[], checks: SettingChecks): void {
  if (!checks.clean(['publish', 'topic']) || !doc.publish.topic.includes('{point}') || doc.publish.topic.includes('{device}')) return;
  const ownerOf = new Map<string, string>();
  for (const device of devices) {
    for (const point of device.points ?? []) {
      const owner = ownerOf.get(point);
      if (owner !== undefined && owner !== device.name) {
        checks.invalid(['publish', 'topic'], `devices ${owner} and ${device.name} both have a point ${point}, and this topic has no {device}: their readings would share one topic. Add {device}, e.g. wasmgate/{gateway}/{pipeline}/{device}/{point}`);
        return;
      }
      ownerOf.set(point, device.name);
    }
  }
}

function checkStepShapes(doc: PipelineDocument, checks: SettingChecks): void {
  doc.steps.forEach((step, i) => {
    if (!checks.intact(['steps', i])) return;
    if (step.plugin !== undefined && step.path !== undefined) {
      checks.conflict(['steps', i, 'path'], ['steps', i, 'plugin'], 'path and plugin exclude each other: name the plugin one way');
    } else if (step.plugin === undefined && step.path === undefined) {
      checks.invalid(['steps', i, 'plugin'], 'a step needs plugin: <name> or path: <file>.wasm');
    }
  });
}

function checkPublish(doc: PipelineDocument, uplinks: ReadonlySet<string> | undefined, checks: SettingChecks): void {
  if (checks.clean(['publish', 'topic'])) {
    const faults = topicTemplateFaults(doc.publish.topic);
    for (const name of faults.unknown) {
      checks.report(['publish', 'topic'], 'WG_ERR_CONFIG_UNKNOWN_PLACEHOLDER', {
        detail: `{${name}}`,
        known: TOPIC_PLACEHOLDERS.map((p) => `{${p}}`).join(' '),
      });
    }
    for (const fault of faults.other) checks.invalid(['publish', 'topic'], fault);
  }
  if (uplinks !== undefined && checks.clean(['publish', 'uplink']) && !uplinks.has(doc.publish.uplink)) {
    checks.report(['publish', 'uplink'], 'WG_ERR_CONFIG_UNKNOWN_UPLINK', { uplink: doc.publish.uplink });
  }
}
