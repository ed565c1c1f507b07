// Composing two units of one quantity into the single multiply-add the hot loop runs:
// to = from × slope + intercept.
//
// With SI = (x + oU) × fU for the source and SI = (y + oV) × fV for the target (unit-table.ts),
//   y = x × fU/fV + (oU × fU/fV − oV).
// Each f and o is an exact integer ratio n/d, so both coefficients are computed as one integer
// numerator over one integer denominator and rounded once, by the final division. That is what makes
// 100 degC → 212 degF, −40 degF → −40 degC and 0 degC → 273.15 K come out exact rather than an ulp off,
// as they would through SI in two rounded steps.
import { factorNumOf, factorDenOf, offsetNumOf, offsetDenOf } from "./unit-table";

export let slope: f64 = 1;
export let intercept: f64 = -0.0;

/** Sets `slope` and `intercept` for converting values in unit row `from` to unit row `to`. */
export function compose(from: i32, to: i32): void {
  if (from == to) {
    identity();
    return;
  }
  const nU = factorNumOf(from), dU = factorDenOf(from), pU = offsetNumOf(from), qU = offsetDenOf(from);
  const nV = factorNumOf(to), dV = factorDenOf(to), pV = offsetNumOf(to), qV = offsetDenOf(to);
  slope = (nU * dV) / (dU * nV);
  intercept = (pU * qV * nU * dV - pV * qU * dU * nV) / (qU * qV * dU * nV);
  // x × slope + (−0) is x × slope for every x, −0 included; + (+0) would turn −0 into +0.
  if (intercept == 0) intercept = -0.0;
}

/** The conversion that changes nothing: x × 1 + (−0) is x for every x. */
export function identity(): void {
  slope = 1;
  intercept = -0.0;
}
