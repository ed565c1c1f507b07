/**
 * Hysteresis as a controls engineer sets it on an alarm: once `temp > 95` fired, it clears only when
 * temp is back below 95 - h. Here for any condition built of ordering comparisons with and, or and
 * not: while the rule is active, every threshold is moved back by h against the direction that made
 * the condition true (a `>` threshold down, a `<` threshold up; under a `not` the other way), and the
 * rule clears when that relaxed condition no longer holds. `==` and `!=` have no direction to move.
 */
import type { Checked } from './expression.js';

export type Relaxed = { ok: true; relaxed: Checked } | { ok: false; reason: string };

export function relax(condition: Checked, h: number): Relaxed {
  let moved = 0;
  let refusal: string | undefined;
  const walk = (c: Checked, sign: 1 | -1): Checked => {
    switch (c.kind) {
      case 'not':
        return { kind: 'not', arg: walk(c.arg, sign === 1 ? -1 : 1) };
      case 'logic':
        return { kind: 'logic', op: c.op, left: walk(c.left, sign), right: walk(c.right, sign) };
      case 'compare': {
        if (c.op === '==' || c.op === '!=') {
          refusal ??= `hysteresis moves the thresholds of <, <=, > and >=; ${c.op} has no direction to move`;
          return c;
        }
        moved++;
        // `left > right` holds again until left falls below right - h: the right side moves by -h.
        const up = (c.op === '<' || c.op === '<=') === (sign === 1);
        return { kind: 'compare', op: c.op, left: c.left, right: { kind: 'arith', op: up ? '+' : '-', left: c.right, right: { kind: 'number', value: h } } };
      }
      default:
        return c;
    }
  };
  const relaxed = walk(condition, 1);
  if (refusal !== undefined) return { ok: false, reason: refusal };
  if (moved === 0) return { ok: false, reason: 'hysteresis needs a comparison (<, <=, >, >=) in when: to move; this condition has none' };
  return { ok: true, relaxed };
}
