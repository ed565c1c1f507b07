/**
 * Checks a compiled module against ABI v1 from its import and export lists, before anything of it
 * runs, and reports every problem at once (imitating Extism's instantiateModule messages).
 */
import { WgError } from '../errors.js';
import {
  ABI_MAJOR,
  ABI_MINOR,
  ABI_MARKER,
  ABI_MARKER_PATTERN,
  GRANTED_IMPORTS,
  IMPORT_NAMESPACE,
  OPTIONAL_EXPORTS,
  POLLING_EXPORTS,
  REQUIRED_EXPORTS,
  STATE_EXPORTS,
  SUBSCRIBE_EXPORTS,
  WRITE_EXPORTS,
} from './abi.js';

export interface AbiFacts {
  /** The module exports the polling group (wg_requests, wg_request, wg_frame_length). */
  polling: boolean;
  /** The module exports wg_tick. */
  ticks: boolean;
  /** The module exports wg_units. */
  units: boolean;
  /** The module exports wg_framing (ABI 1.1): its frames can be built and delimited by rule. */
  framing: boolean;
  /** The module exports the write group (ABI 1.2: wg_write, wg_write_check). */
  writes: boolean;
  /** The module exports the subscription group (ABI 1.6: wg_subscriptions, wg_subscribe, wg_subscribe_check). */
  subscribes: boolean;
  /** The module exports wg_reply (ABI 1.6): some unsolicited frames want a frame sent back. */
  replies: boolean;
  /** The module exports wg_drain (ABI 1.3). */
  drains: boolean;
  /** The module exports both wg_snapshot and wg_restore (ABI 1.3): its state can be handed over. */
  snapshots: boolean;
}

/**
 * `declaredImports`: the host functions the plugin's manifest lists (its capabilities, already checked
 * against what the gateway grants); a module importing one of the host's functions that is not among
 * them is refused like one importing what the host never grants. Undefined: every granted import.
 */
export function listAbiProblems(module: WebAssembly.Module, manifestAbi?: number, declaredImports?: readonly string[]): string[] {
  const problems: string[] = [];
  const exports = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));

  const markers = [...exports.keys()].flatMap((name) => {
    const m = ABI_MARKER_PATTERN.exec(name);
    return m ? [Number(m[1])] : [];
  });
  if (markers.length === 0) {
    problems.push(`no ABI version marker export (expected an empty function "${ABI_MARKER}")`);
  } else if (!markers.includes(ABI_MAJOR)) {
    problems.push(`built for ABI v${markers.join('/v')}, this host speaks v${ABI_MAJOR}`);
  }
  if (manifestAbi !== undefined && Math.trunc(manifestAbi) !== ABI_MAJOR && markers.includes(ABI_MAJOR)) {
    problems.push(`manifest declares abi ${manifestAbi} but the module exports ${ABI_MARKER}`);
  }
  // Minor versions only add: a plugin of 1.0 or 1.1 loads unchanged; one built for a newer minor
  // than this host knows may rely on what the host does not do.
  const minor = manifestAbi === undefined ? 0 : Math.round((manifestAbi - Math.trunc(manifestAbi)) * 10);
  if (manifestAbi !== undefined && Math.trunc(manifestAbi) === ABI_MAJOR && minor > ABI_MINOR) {
    problems.push(`manifest declares abi ${manifestAbi}, this host speaks up to ${ABI_MAJOR}.${ABI_MINOR}`);
  }

  for (const [name, kind] of Object.entries(REQUIRED_EXPORTS)) {
    const actual = exports.get(name);
    if (actual === undefined) problems.push(`missing required export "${name}" (${kind})`);
    else if (actual !== kind) problems.push(`export "${name}" is a ${actual}, expected a ${kind}`);
  }
  for (const [name, kind] of Object.entries(OPTIONAL_EXPORTS)) {
    const actual = exports.get(name);
    if (actual !== undefined && actual !== kind) problems.push(`export "${name}" is a ${actual}, expected a ${kind}`);
  }

  const present = POLLING_EXPORTS.filter((n) => exports.has(n));
  if (present.length > 0 && present.length < POLLING_EXPORTS.length) {
    const missing = POLLING_EXPORTS.filter((n) => !exports.has(n));
    problems.push(`incomplete polling group: has ${present.join(', ')} but misses ${missing.join(', ')}`);
  }
  const writes = WRITE_EXPORTS.filter((n) => exports.has(n));
  if (writes.length > 0 && writes.length < WRITE_EXPORTS.length) {
    problems.push(`incomplete write group: has ${writes.join(', ')} but misses ${WRITE_EXPORTS.filter((n) => !exports.has(n)).join(', ')}`);
  }
  const subscribes = SUBSCRIBE_EXPORTS.filter((n) => exports.has(n));
  if (subscribes.length > 0 && subscribes.length < SUBSCRIBE_EXPORTS.length) {
    problems.push(`incomplete subscription group: has ${subscribes.join(', ')} but misses ${SUBSCRIBE_EXPORTS.filter((n) => !exports.has(n)).join(', ')}`);
  }
  const state = STATE_EXPORTS.filter((n) => exports.has(n));
  if (state.length === 1) {
    problems.push(`incomplete state group: has ${state[0]} but misses ${STATE_EXPORTS.find((n) => !exports.has(n))}`);
  }
  for (const name of [...present, ...writes, ...subscribes]) {
    if (exports.get(name) !== 'function') problems.push(`export "${name}" is a ${exports.get(name)}, expected a function`);
  }

  const granted = new Set<string>(GRANTED_IMPORTS);
  const declared = new Set<string>(declaredImports ?? GRANTED_IMPORTS);
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module !== IMPORT_NAMESPACE || !granted.has(imp.name) || imp.kind !== 'function') {
      problems.push(`imports ${imp.kind} "${imp.module}.${imp.name}", which the host does not grant`);
    } else if (!declared.has(imp.name)) {
      problems.push(`imports function "${imp.module}.${imp.name}", which its manifest does not list (imports: [${[...declared].join(', ')}]): not granted`);
    }
  }
  return problems;
}

/** Throws WG_ERR_PLUGIN_ABI listing every problem, or returns what the module offers. */
export function checkAbi(module: WebAssembly.Module, plugin: string, file: string, manifestAbi?: number, declaredImports?: readonly string[]): AbiFacts {
  const problems = listAbiProblems(module, manifestAbi, declaredImports);
  if (problems.length > 0) {
    throw new WgError('WG_ERR_PLUGIN_ABI', { plugin, file, detail: problems.join('; '), problems });
  }
  const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  return { polling: names.has('wg_requests'), ticks: names.has('wg_tick'), units: names.has('wg_units'), framing: names.has('wg_requests') && names.has('wg_framing'), writes: names.has('wg_write'), subscribes: names.has('wg_subscriptions'), replies: names.has('wg_reply'), drains: names.has('wg_drain'), snapshots: names.has('wg_snapshot') && names.has('wg_restore') };
}
