/**
 * `npm run bench`: runs every bench/*.bench.js in its own process, one after another (they share two
 * cores; running them together would measure the contention), prints what each prints, and with
 * `--update-readme` rewrites the README's benchmark table from the BENCH lines.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arch, cpus, loadavg, platform } from 'node:os';

interface BenchLine {
  name: string;
  value: number;
  unit: string;
  target?: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const README = join(here, '..', '..', 'README.md');
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const files = readdirSync(here).filter((f) => f.endsWith('.bench.js') && (only.length === 0 || only.some((o) => f.includes(o)))).sort();
const results: Array<BenchLine & { bench: string }> = [];
for (const file of files) {
  console.log(`\n=== ${file}`);
  const run = spawnSync(process.execPath, [join(here, file)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const line of run.stdout.split('\n')) {
    if (line.startsWith('BENCH ')) results.push({ ...(JSON.parse(line.slice(6)) as BenchLine), bench: file.replace('.bench.js', '') });
    else console.log(line);
  }
  if (run.status !== 0) {
    console.error(`${file} failed with exit code ${run.status}`);
    process.exitCode = 1;
  }
}

function shown(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toPrecision(3);
}

if (process.argv.includes('--update-readme')) {
  const machine = `${platform()} ${arch()}, ${cpus()[0]?.model.trim() ?? '?'}, ${cpus().length} cores, Node ${process.version}, load average ${loadavg()[0]!.toFixed(1)} at the end`;
  const rows = results.map((r) => `| ${r.bench} | ${r.name} | ${shown(r.value)} ${r.unit} | ${r.target ?? ''} |`);
  const table = [
    START,
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine} (\`npm run bench\`).`,
    '',
    '| bench | figure | value | target |',
    '|---|---|---|---|',
    ...rows,
    END,
  ].join('\n');
  const readme = readFileSync(README, 'utf8');
  const from = readme.indexOf(START);
  const to = readme.indexOf(END);
  if (from < 0 || to < 0) throw new Error(`README.md has no ${START} … ${END} block`);
  writeFileSync(README, readme.slice(0, from) + table + readme.slice(to + END.length));
  console.log(`\nREADME.md benchmark table updated (${rows.length} figures)`);
}
