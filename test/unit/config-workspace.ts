/**
 * A scratch directory for config tests: each test writes its gateway and pipeline files from lines
 * held in the test itself, so every expected line:column can be counted from the test's own text
 * (line N of a file is element N-1 of its array).
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/unit/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** Manifests of one decoder, one transform and one encoder (test/fixtures/plugins/config/). */
export const FIXTURE_PLUGINS = join(REPO_ROOT, 'test/fixtures/plugins/config');

export class ConfigWorkspace {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async create(): Promise<ConfigWorkspace> {
    return new ConfigWorkspace(await mkdtemp(join(tmpdir(), 'wasmgate-config-')));
  }

  /** Writes `lines` joined by newlines to `name` (relative to the workspace); returns the absolute path. */
  async write(name: string, lines: readonly string[]): Promise<string> {
    const path = join(this.dir, name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, lines.join('\n') + '\n');
    return path;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A valid gateway file listing `pipelines`, with the fixture plugins. 11 lines. */
export function gatewayLines(pipelines: readonly string[] = ['p.yaml']): string[] {
  return [
    'gateway:', // 1
    '  id: gw1', // 2
    `  plugin_dirs: [ ${JSON.stringify(FIXTURE_PLUGINS)} ]`, // 3
    'uplinks:', // 4
    '  cloud:', // 5
    '    mqtt:', // 6
    '      url: mqtt://127.0.0.1:1883', // 7
    '      qos: 1', // 8
    'pipelines:', // 9
    ...pipelines.map((p) => `  - ${p}`),
  ];
}

/** A valid pipeline file: one device with one point, decoder → transform → encoder. */
export function pipelineLines(name = 'boiler-room'): string[] {
  return [
    'pipeline:', // 1
    `  name: ${name}`, // 2
    'source:', // 3
    '  modbus_tcp:', // 4
    '    devices:', // 5
    '      - name: plc1', // 6
    '        host: 127.0.0.1', // 7
    '        points:', // 8
    '          - { name: boiler.temp, function: 3, address: 0, type: int16 }', // 9
    'steps:', // 10
    '  - plugin: fixture-decoder', // 11
    '  - plugin: fixture-transform', // 12
    '  - plugin: fixture-encoder', // 13
    'publish:', // 14
    '  uplink: cloud', // 15
  ];
}
