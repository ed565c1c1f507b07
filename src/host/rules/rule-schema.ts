/**
 * The `rules:` block of a pipeline file and the file a rule list may include (docs/rules.md). The
 * schema says the shape; what it cannot say (an expression that does not parse, an unknown point, a
 * read-only write target, a window too long for its point's poll interval) is rule-checks.ts.
 */
import { duration, filePath, name } from '../config/schema-fragments.js';
import type { SchemaDocument } from '../config/schema-document.js';

/** Defaults of a rule, written as an operator writes them (docs/rules.md). */
export const RULE_DEFAULTS = {
  for: '0s', // duration the condition must hold before the rule fires
  severity: 'warning',
  alarm: true, // publish the alarm and its clear through the outbox
  alarmTopic: 'wasmgate/{gateway}/{pipeline}/alarms/{rule}',
  log: 'warn', // level the fire is logged at; the clear is logged at info
  rateWrites: 2, // writes a rule may make ...
  ratePer: '1m', // ... within this long
  dryRun: false,
} as const;

/** ISA-18.2 leaves priorities to the site; these are the X.733 severities most alarm consoles show. */
export const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'] as const;
export const LOG_LEVELS = ['error', 'warn', 'info', 'off'] as const;

const expression = (description: string) => ({ type: 'string', minLength: 1, description }) as const;

const write = {
  type: 'object',
  additionalProperties: false,
  required: ['point', 'value'],
  properties: {
    point: { type: 'string', minLength: 1, description: 'the point to write: point, or device:point' },
    value: { type: ['number', 'boolean'], description: 'written when the rule fires, in the point\'s units' },
    on_clear: { type: ['number', 'boolean', 'string'], description: 'written when the rule clears: a value, relinquish (a BACnet point\'s Null at its priority) or none; default none, and relinquish for a BACnet point' },
    interlock: expression('a condition that must hold for the write to go out; the write is refused and audited otherwise'),
  },
} as const;

export const ruleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'when'],
  properties: {
    name: name('rule name, unique in the pipeline; {rule} in the alarm topic'),
    when: expression('the condition (docs/rules.md, Expressions)'),
    for: duration('how long the condition must hold before the rule fires', RULE_DEFAULTS.for),
    clear: expression('the condition that clears the rule once it fired; default: when no longer holds'),
    hysteresis: { type: 'number', exclusiveMinimum: 0, description: 'clears only once every comparison of when is this far back past its threshold' },
    severity: { enum: SEVERITIES, description: 'carried in the alarm', default: RULE_DEFAULTS.severity },
    message: { type: 'string', description: 'text for a person, carried in the alarm and the log' },
    actions: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        alarm: {
          description: 'publish the alarm and its clear through the outbox: true, false, or { topic }',
          default: RULE_DEFAULTS.alarm,
          type: ['boolean', 'object'],
          additionalProperties: false,
          properties: { topic: { type: 'string', minLength: 1, description: 'topic template; {gateway} {pipeline} {rule}' } },
        },
        log: { enum: LOG_LEVELS, description: 'level the fire is logged at (the clear at info); off for none', default: RULE_DEFAULTS.log },
        write: { type: 'array', items: write, maxItems: 16, description: 'device writes when the rule fires (and clears)' },
        rate_limit: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'at most `writes` writes of this rule within `per`; the others are refused and audited',
          properties: {
            writes: { type: 'integer', minimum: 1, maximum: 1000, default: RULE_DEFAULTS.rateWrites, description: 'writes' },
            per: duration('the window', RULE_DEFAULTS.ratePer),
          },
        },
        dry_run: { type: 'boolean', default: RULE_DEFAULTS.dryRun, description: 'log and audit what would be written, write nothing' },
      },
    },
  },
} as const;

export const ruleIncludeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['include'],
  properties: { include: filePath('a rules file (a map with rules:), relative to this file') },
} as const;

/**
 * `rules:` in a pipeline file: rules, and rules files to include, in order. Each item is checked by
 * rule-checks.ts against ruleSchema or ruleIncludeSchema (by whether it has `include:`), so that a
 * wrong rule is told what is wrong with it as a rule, not that it matches neither of two shapes.
 */
export const rulesListSchema = {
  type: 'array',
  maxItems: 1024,
  description: 'local rules and rules files to include (docs/rules.md)',
  items: { type: 'object' },
} as const;

/** A file a pipeline includes: its own rules, no further includes. */
export const rulesFileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['rules'],
  properties: { rules: { type: 'array', maxItems: 1024, items: ruleSchema } },
} as const;

export type RuleDocument = SchemaDocument<typeof ruleSchema>;
export type RulesFileDocument = SchemaDocument<typeof rulesFileSchema>;
