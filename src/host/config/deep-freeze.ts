/**
 * Freezes a resolved config all the way down, so that no component can change a setting another one
 * has already acted on. Shared sub-objects (a point listed under its device and under its pipeline)
 * are visited once.
 */

/** Freezes `value` in place and returns it; its type should already say `readonly` at every level. */
export function deepFreeze<T>(value: T, seen: Set<object> = new Set()): T {
  if (value !== null && typeof value === 'object' && !seen.has(value)) {
    seen.add(value);
    for (const child of Object.values(value)) deepFreeze(child, seen);
    Object.freeze(value);
  }
  return value;
}
