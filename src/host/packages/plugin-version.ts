/**
 * Ordering of plugin versions (`x.y.z` with an optional pre-release, as the manifest's `version`
 * allows), by Semantic Versioning 2.0.0, section 11: numbers compared as numbers, a pre-release
 * below its release, pre-release identifiers compared one by one (numeric ones as numbers and below
 * alphanumeric ones), a shorter list of equal identifiers below a longer one.
 */

/** Negative when `a` is older than `b`, 0 when they have the same precedence, positive when newer. */
export function compareVersions(a: string, b: string): number {
  const [coreA, preA] = split(a);
  const [coreB, preB] = split(b);
  for (let i = 0; i < 3; i++) {
    const d = coreA[i]! - coreB[i]!;
    if (d !== 0) return Math.sign(d);
  }
  if (preA.length === 0 || preB.length === 0) return preA.length === preB.length ? 0 : preA.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.min(preA.length, preB.length); i++) {
    const d = compareIdentifiers(preA[i]!, preB[i]!);
    if (d !== 0) return d;
  }
  return Math.sign(preA.length - preB.length);
}

function split(version: string): [number[], string[]] {
  const dash = version.indexOf('-');
  const core = (dash < 0 ? version : version.slice(0, dash)).split('.').map(Number);
  return [core, dash < 0 ? [] : version.slice(dash + 1).split('.')];
}

function compareIdentifiers(a: string, b: string): number {
  const numA = /^\d+$/.test(a);
  const numB = /^\d+$/.test(b);
  if (numA && numB) return Math.sign(Number(a) - Number(b));
  if (numA !== numB) return numA ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
