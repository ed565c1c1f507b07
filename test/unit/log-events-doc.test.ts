// docs/logging.md is what an operator writes alerts against: its table of events must be exactly the
// catalog the code logs with (src/host/log-events.ts), names, concerns and meanings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_EVENTS } from '../../src/host/log-events.js';
import { REPO_ROOT } from '../support/plugins.js';

function documentedEvents(): Array<[string, string, string]> {
  const text = readFileSync(join(REPO_ROOT, 'docs', 'logging.md'), 'utf8');
  const section = text.slice(text.indexOf('## Events'));
  return [...section.matchAll(/^\| `([a-z_.]+)` \| ([a-z]+) \| (.+) \|$/gm)].map((m) => [m[1]!, m[2]!, m[3]!.replace(/\\\|/g, '|')]);
}

test('docs/logging.md lists every log event with what it concerns and means, and nothing else', () => {
  const documented = documentedEvents();
  const catalog = Object.entries(LOG_EVENTS).map(([name, e]) => [name, e.concerns, e.means]);
  assert.deepEqual(documented, catalog);
});

test('event names are lower case, dotted, area first', () => {
  for (const name of Object.keys(LOG_EVENTS)) assert.match(name, /^[a-z]+\.[a-z_]+$/);
});
