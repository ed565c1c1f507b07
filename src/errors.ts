/**
 * What every wasmgate error is, below every layer that raises one: a stable `WG_ERR_<AREA>_<WHAT>`
 * code, the domain context it concerns, and a message rendered from the code's template. The HAL
 * (src/hal/errors.ts) and the host (src/host/errors.ts, the registry of every code) both build on
 * it, so layers point down: the HAL never imports the host.
 */

export interface ErrorContext {
  file?: string;
  line?: number;
  column?: number;
  setting?: string;
  pipeline?: string;
  step?: number;
  plugin?: string;
  device?: string;
  point?: string;
  uplink?: string;
  detail?: string;
  [key: string]: unknown;
}

export interface CodeSpec {
  /** Message template; `{name}` is replaced by the context field of that name. */
  message: string;
}

function render(template: string, context: ErrorContext): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = context[key];
    return value === undefined ? `<${key}?>` : String(value);
  });
}

export class CodedError<C extends string = string> extends Error {
  readonly code: C;
  readonly context: ErrorContext;

  constructor(code: C, spec: CodeSpec, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(render(spec.message, context), options);
    this.name = 'WgError';
    this.code = code;
    this.context = context;
  }

  /** A one-line rendering that leads with the position when there is one: `file:line:col setting: msg`. */
  override toString(): string {
    const c = this.context;
    const where = c.file !== undefined && c.line !== undefined ? `${c.file}:${c.line}:${c.column ?? 1} ` : '';
    const setting = c.setting ? `${c.setting}: ` : '';
    return `${where}${setting}${this.message} [${this.code}]`;
  }
}
