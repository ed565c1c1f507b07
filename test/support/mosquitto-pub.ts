/**
 * Debian's `mosquitto_pub` as an independent publishing device: one message per call, or a flood of
 * lines from its stdin (`-l`, one message per line), on a broker's loopback port.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { findTool } from './tools.js';

export function mosquittoPubPath(): string | undefined {
  return findTool('mosquitto_pub', ['/usr/bin/mosquitto_pub']);
}

export interface PubOptions {
  readonly qos?: 0 | 1;
  /** Client id (default mosquitto_pub's own, with its pid). */
  readonly id?: string;
  /** `-V mqttv5`, for MQTT 5 properties. */
  readonly v5?: boolean;
  /** MQTT 5 properties, as `-D publish <identifier> <value>` pairs (`['content-type', 'application/json']`). */
  readonly properties?: ReadonlyArray<readonly [string, string]>;
}

function args(port: number, topic: string, options: PubOptions): string[] {
  return [
    '-h', '127.0.0.1', '-p', String(port), '-t', topic, '-q', String(options.qos ?? 0),
    ...(options.id ? ['-i', options.id] : []),
    ...(options.v5 || options.properties ? ['-V', 'mqttv5'] : []),
    ...(options.properties ?? []).flatMap(([name, value]) => ['-D', 'publish', name, value]),
  ];
}

/** Publishes `message` (a string, or bytes through a file-less stdin `-s`) and resolves once mosquitto_pub exited 0. */
export function publish(port: number, topic: string, message: string | Buffer, options: PubOptions = {}): Promise<void> {
  const binary = mosquittoPubPath();
  if (!binary) throw new Error('mosquitto_pub not installed');
  return new Promise((resolve, reject) => {
    // -s: the whole of stdin is the payload, so binary bodies and newlines go through unchanged.
    const child = execFile(binary, [...args(port, topic, options), '-s'], (error, _stdout, stderr) => {
      if (error) reject(new Error(`mosquitto_pub -t ${topic} failed: ${stderr || error.message}`));
      else resolve();
    });
    child.stdin!.end(message);
  });
}

/** Publishes each of `lines` as a message on `topic` through one connection (`-l`); resolves once all went out. */
export async function publishLines(port: number, topic: string, lines: Iterable<string>, options: PubOptions = {}): Promise<void> {
  const binary = mosquittoPubPath();
  if (!binary) throw new Error('mosquitto_pub not installed');
  const child = spawn(binary, [...args(port, topic, options), '-l'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit');
  for (const line of lines) {
    if (!child.stdin.write(`${line}\n`)) await once(child.stdin, 'drain');
  }
  child.stdin.end();
  const [code] = (await exited) as [number | null];
  if (code !== 0) throw new Error(`mosquitto_pub -l -t ${topic} exited ${String(code)}: ${stderr}`);
}

/**
 * Publishes `message` `count` times on `topic` through one connection (`--repeat`, no delay), as fast
 * as mosquitto_pub sends: a flood that costs the test process nothing.
 */
export function publishRepeated(port: number, topic: string, message: string, count: number, options: PubOptions = {}): Promise<void> {
  const binary = mosquittoPubPath();
  if (!binary) throw new Error('mosquitto_pub not installed');
  return new Promise((resolve, reject) => {
    // --repeat N: N publishes in all (mosquitto_pub 2.0).
    execFile(binary, [...args(port, topic, options), '-m', message, '--repeat', String(count), '--repeat-delay', '0'], { maxBuffer: 1 << 20 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`mosquitto_pub --repeat on ${topic} failed: ${stderr || error.message}`));
      else resolve();
    });
  });
}
