/**
 * Configures every step of a pipeline the way its worker will (same settings documents, units passed
 * on by wg_units), on this thread, and turns a refusal into a positioned config problem. So what only a
 * plugin can judge (an unknown unit for si, a point name in `with.points` that does not exist) is
 * reported by `wasmgate validate` and before `wasmgate run` starts anything, naming the file, line
 * and column of the step.
 */
import type { ResolvedPipeline } from '../config/resolved.js';
import { makeProblem, type ConfigProblem } from '../config/problem.js';
import { YamlSource } from '../config/yaml-source.js';
import { isWgError } from '../errors.js';
import { StepChain } from './chain.js';
import { pipelineContext } from './settings-document.js';
import { compileSteps } from './step-modules.js';

export async function dryConfigure(pipeline: ResolvedPipeline): Promise<ConfigProblem[]> {
  try {
    const compiled = await compileSteps(pipeline);
    const chain = new StepChain(
      pipeline.steps.map((s, i) => ({ plugin: compiled[i]!, kind: s.kind, with: s.with })),
      pipelineContext(pipeline),
      { log: () => {} },
    );
    chain.configure();
    return [];
  } catch (err) {
    if (!isWgError(err)) throw err;
    const step = typeof err.context.step === 'number' ? err.context.step : pipeline.steps.findIndex((s) => s.plugin === err.context.plugin);
    const read = await YamlSource.read(pipeline.file);
    const path = step >= 0 ? ['steps', step] : ['steps'];
    const withWritten = read.ok && step >= 0 && read.source.has([...path, 'with']);
    const settingPath = withWritten ? [...path, 'with'] : path;
    const at = read.ok ? read.source.positionOf(settingPath, 'key') : { line: 1, column: 1 };
    const where = { file: pipeline.file, line: at.line, column: at.column, path: step >= 0 ? `steps[${step}]${withWritten ? '.with' : ''}` : 'steps' };
    return [makeProblem(where, err.code, err.context)];
  }
}
