/**
 * `wasmgate validate --config <gateway.yaml>`: checks the gateway file, its pipelines and the plugin
 * manifests they use, then configures every step's plugin as the gateway would (what only a plugin can
 * judge, like an unknown unit), prints every hint (`file:line:col setting: hint: message`), every problem
 * as `file:line:col setting: message [code]` and a summary.
 */
import { formatHint, formatProblem, loadGatewayConfig, type ConfigProblem, type LoadResult, type ResolvedPipeline } from '../config/index.js';
import { makeProblem } from '../config/problem.js';
import { YamlSource } from '../config/yaml-source.js';
import { dryConfigure } from '../pipeline/dry-configure.js';
import { compileStep } from '../pipeline/step-modules.js';
import { takesPushed } from '../engine/abi.js';

/**
 * Loads the configuration, then dry-configures each pipeline's plugins; problems of both kinds.
 * `mark` is told when the files are loaded and checked (`loaded`) and the plugins configured (`configured`).
 */
export async function loadAndConfigure(file: string, plugins = true, mark?: (phase: 'loaded' | 'configured') => void): Promise<LoadResult> {
  const result = await loadGatewayConfig(file);
  mark?.('loaded');
  if (!result.ok || !plugins) return result;
  const checked = await Promise.all(result.config.pipelines.map(async (p) => [...(await dryConfigure(p)), ...(await checkPollingDecoder(p))]));
  mark?.('configured');
  const problems = checked.flat();
  return problems.length > 0 ? { ok: false, problems, hints: result.hints } : result;
}

/**
 * A polled source needs a decoder that builds requests and frames answers (the polling group), and a
 * push source one that reads pushed frames (ABI 1.5); pipeline assembly refuses either without it, so
 * validate must too, at the decoder's step.
 */
async function checkPollingDecoder(pipeline: ResolvedPipeline): Promise<ConfigProblem[]> {
  const decoder = pipeline.steps[0];
  if (!decoder) return [];
  const polls = pipeline.source.links.some((l) => l.transport !== 'push');
  const pushes = pipeline.source.links.some((l) => l.transport === 'push');
  const details: string[] = [];
  if (pushes && !takesPushed(decoder.manifest.abi)) {
    details.push(`the source takes what devices push, but decoder ${decoder.plugin} declares abi ${decoder.manifest.abi}: pushed frames go to decoders of 1.5 or later (the payload plugin is one)`);
  }
  if (polls) {
    const compiled = await compileStep(decoder.plugin, decoder.wasmPath, decoder.manifest.abi).catch(() => undefined);
    // A module that does not compile is dryConfigure's problem to report.
    if (compiled !== undefined && !compiled.facts.polling) details.push(`the source polls devices, but decoder ${decoder.plugin} does not export the polling group (wg_requests, wg_request, wg_frame_length)`);
  }
  if (details.length === 0) return [];
  const read = await YamlSource.read(pipeline.file);
  const at = read.ok ? read.source.positionOf(['steps', 0], 'value') : { line: 1, column: 1 };
  return details.map((detail) => makeProblem({ file: pipeline.file, line: at.line, column: at.column, path: 'steps[0]' }, 'WG_ERR_CONFIG_INVALID', { detail, plugin: decoder.plugin }));
}

/**
 * Exit code 0 when the configuration is valid, 1 when it is not. Writes each output line to `out`.
 * `plugins: false` checks the files and manifests only, without configuring the plugins.
 */
export async function runValidate(args: { config: string; plugins?: boolean }, out: (line: string) => void): Promise<number> {
  const result = await loadAndConfigure(args.config, args.plugins ?? true);
  const cwd = process.cwd();
  for (const hint of result.hints) out(formatHint(hint, cwd));
  if (!result.ok) {
    for (const problem of result.problems) out(formatProblem(problem, cwd));
    const files = new Set(result.problems.map((p) => p.file)).size;
    const n = result.problems.length;
    out(`${args.config}: invalid, ${n} problem${n === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}`);
    return 1;
  }
  const config = result.config;
  const steps = config.pipelines.reduce((sum, p) => sum + p.steps.length, 0);
  const points = config.pipelines.reduce((sum, p) => sum + p.points.length, 0);
  out(
    `${args.config}: valid, gateway ${config.id}: ${config.uplinks.length} uplink${config.uplinks.length === 1 ? '' : 's'}, ` +
      `${config.pipelines.length} pipeline${config.pipelines.length === 1 ? '' : 's'}, ${steps} step${steps === 1 ? '' : 's'}, ` +
      `${points} point${points === 1 ? '' : 's'}`,
  );
  return 0;
}
