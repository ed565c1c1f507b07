/**
 * Where a setting sits in a config document: a list of map keys and list indexes, printed the way an
 * operator reads it (`source.modbus_tcp.devices[0].port`). Keys that are not plain words are quoted,
 * so that a point named `boiler.temp` prints as `points["boiler.temp"]` and cannot be misread.
 */

export type SettingPath = readonly (string | number)[];

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function formatSettingPath(path: SettingPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/**
 * Turns an ajv `instancePath` (a JSON pointer) into a setting path, using the data to tell a list
 * index from a map key whose text happens to be a number.
 */
export function pointerToPath(pointer: string, data: unknown): (string | number)[] {
  if (pointer === '') return [];
  const path: (string | number)[] = [];
  let here: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(here)) {
      const index = Number(key);
      path.push(index);
      here = here[index];
    } else {
      path.push(key);
      here = here !== null && typeof here === 'object' ? (here as Record<string, unknown>)[key] : undefined;
    }
  }
  return path;
}
