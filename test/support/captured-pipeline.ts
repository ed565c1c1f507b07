/**
 * One pipeline file loaded by the real config loader and run in process with a capture sink in place
 * of the uplink, for tests about sources and links: the messages land in memory, the status is at hand.
 * The sink is not under test here (the MQTT sink has its own suite).
 */
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { AssembledPipeline } from '../../src/host/pipeline/pipeline-assembly.js';
import { CaptureSink } from '../../src/host/commission/capture-sink.js';
import { systemClock } from '../../src/hal/clock.js';
import { gatewayYaml, writeGatewayFixture } from './gateway-fixture.js';

export type LogLine = Record<string, unknown> & { msg: string; level: number };

export interface CapturedPipeline {
  pipeline: AssembledPipeline;
  sink: CaptureSink;
  lines: LogLine[];
  /** Messages parsed as JSON objects. */
  messages(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startCapturedPipeline(pipelineYaml: string): Promise<CapturedPipeline> {
  const fixture = await writeGatewayFixture(gatewayYaml('mqtt://127.0.0.1:1'), pipelineYaml);
  const loaded = await loadGatewayConfig(fixture.gatewayFile);
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems, null, 1));
  const lines: LogLine[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n')) if (text) lines.push(JSON.parse(text) as LogLine);
      done();
    },
  });
  const sink = new CaptureSink();
  const pipeline = await AssembledPipeline.start(loaded.config.pipelines[0]!, { gatewayId: 'gw-test', sink, logger: pino({ level: 'info' }, out), clock: systemClock });
  return {
    pipeline,
    sink,
    lines,
    messages: () => sink.messages.map((m) => JSON.parse(m) as Record<string, unknown>),
    stop: async () => {
      await pipeline.stop();
      await fixture.dispose();
    },
  };
}
