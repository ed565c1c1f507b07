/** `wasmgate schema`: the editor schemas of src/host/config/editor-schemas.ts, printed or written. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EDITOR_SCHEMA_FILES, editorSchemaText, type EditorSchemaName } from '../config/editor-schemas.js';

export async function printSchema(name: EditorSchemaName, out: (line: string) => void): Promise<number> {
  out((await editorSchemaText(name)).trimEnd());
  return 0;
}

export async function writeSchemas(dir: string, out: (line: string) => void): Promise<number> {
  for (const name of Object.keys(EDITOR_SCHEMA_FILES) as EditorSchemaName[]) {
    const file = join(dir, EDITOR_SCHEMA_FILES[name]);
    await writeFile(file, await editorSchemaText(name));
    out(`wrote ${file}`);
  }
  return 0;
}
