/**
 * Reading an operation's parameters the way the protocol promises (docs/control.md, versioning): each
 * named one checked for its type, a missing required one refused, and one the operation does not know
 * refused rather than ignored, so that an older daemon never drops what a newer client meant.
 */
import { WgError } from '../errors.js';
import type { ControlParams } from './control-protocol.js';

type ParamType = 'string' | 'number' | 'integer' | 'boolean' | 'object';

interface ParamTypes {
  string: string;
  number: number;
  integer: number;
  boolean: boolean;
  /** A JSON object, checked field by field by the operation itself. */
  object: Record<string, unknown>;
}

export interface ParamSpec {
  readonly type: ParamType;
  /** Default false. */
  readonly required?: boolean;
}

export type ParamsOf<S extends Record<string, ParamSpec>> = {
  [K in keyof S as S[K]['required'] extends true ? K : never]: ParamTypes[S[K]['type']];
} & {
  [K in keyof S as S[K]['required'] extends true ? never : K]?: ParamTypes[S[K]['type']];
};

/** `params` checked against `spec`; throws WG_ERR_CONTROL_REQUEST naming the first thing wrong. */
export function readParams<S extends Record<string, ParamSpec>>(op: string, params: ControlParams, spec: S): ParamsOf<S> {
  const refuse = (detail: string): never => {
    throw new WgError('WG_ERR_CONTROL_REQUEST', { op, detail: `${op}: ${detail}` });
  };
  const known = Object.keys(spec);
  const unknown = Object.keys(params).filter((k) => !Object.hasOwn(spec, k));
  if (unknown.length > 0) refuse(`unknown parameter(s) ${unknown.join(', ')}; ${known.length > 0 ? `it takes ${known.join(', ')}` : 'it takes none'}`);
  for (const [name, { type, required }] of Object.entries(spec)) {
    const value = params[name];
    if (value === undefined) {
      if (required) refuse(`parameter ${name} (${type}) is required`);
      continue;
    }
    const fits = type === 'integer' ? Number.isSafeInteger(value)
      : type === 'object' ? value !== null && typeof value === 'object' && !Array.isArray(value)
        : typeof value === type && (type !== 'number' || Number.isFinite(value));
    if (!fits) refuse(`parameter ${name} must be ${type === 'integer' || type === 'object' ? `an ${type}` : `a ${type}`} (got ${JSON.stringify(value)?.slice(0, 40) ?? 'nothing'})`);
  }
  return params as ParamsOf<S>;
}
