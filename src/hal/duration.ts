/**
 * How a duration reads in a message an operator sees: `300 ms`, `1.5 s`, `2 min 30 s`, `720 h`.
 * Measured times are fractional (`999.9979410000001 ms` from the monotonic clock); nobody reads them
 * that precisely, so they are rounded to what the unit can tell: whole ms below a second, tenths of
 * a second below a minute, whole seconds above.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return ms > 0 ? 'forever' : String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1) return `${trim(ms.toFixed(3))} ms`;
  if (Math.round(ms) < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) {
    const tenths = Math.round(ms / 100);
    return tenths >= 600 ? '1 min' : `${trim((tenths / 10).toFixed(1))} s`;
  }
  const totalS = Math.round(ms / 1_000);
  const h = Math.floor(totalS / 3_600);
  const min = Math.floor((totalS % 3_600) / 60);
  const s = totalS % 60;
  return [h > 0 ? `${h} h` : '', min > 0 ? `${min} min` : '', s > 0 ? `${s} s` : ''].filter(Boolean).join(' ');
}

function trim(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}
