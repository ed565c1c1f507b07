/**
 * A small physical process behind the demo PLC: a boiler and its feed pump. Values move like a
 * process rather than like random numbers, so that the demo's filters (outlier, resample) have
 * something to do: the temperature drifts slowly around 65 °C with sensor noise and a rare one-sample
 * spike; the pump ramps up and down when commanded; the energy counter only grows.
 *
 * Deterministic: the same seed and the same sequence of `step` calls give the same readings, so a
 * test can drive it without timers. The simulator steps it with a fixed dt on its timer.
 */
import type { DemoPointName } from './demo-register-map.js';

export type BoilerReadings = Record<DemoPointName, number | boolean>;

const TEMP_SETPOINT_C = 65;
const TEMP_WANDER_C = 5; // the slow drift stays within setpoint ± this
const TEMP_TIME_CONSTANT_S = 5; // how fast the water follows the drifting target
const TEMP_NOISE_C = 0.2; // sensor noise, ± uniform
const SPIKE_PER_SECOND = 0.03; // about one spike every half minute
const SPIKE_C = [20, 30]; // a spike adds this much for one sample: an outlier, not a trend
const OVERTEMP_C = 80;
const NOMINAL_RPM = 1450;
const RAMP_RPM_PER_S = 500;
const NOMINAL_FLOW_LPH = 3600;
const PUMP_KW = 7.5; // shaft power at nominal speed; scales with speed³ (affinity laws)
const CONTROLS_KW = 0.4; // always drawn, so the counter grows even with the pump stopped
const START_ENERGY_KWH = 12_345.678;

/** mulberry32: a tiny, well-mixed 32-bit PRNG; plenty for simulated noise and reproducible by seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export class BoilerProcess {
  #random: () => number;
  #target = TEMP_SETPOINT_C;
  #water = TEMP_SETPOINT_C;
  #rpm = NOMINAL_RPM;
  #energyKWh = START_ENERGY_KWH;

  constructor(seed = 1) {
    this.#random = mulberry32(seed);
  }

  /** Advances the process by `dtSeconds` with the pump commanded on or off; returns the new readings. */
  step(dtSeconds: number, pumpCommand: boolean): BoilerReadings {
    // Drift: a bounded random walk of the target, pulled back towards the setpoint.
    this.#target += (this.#noise(0.5) - 0.02 * (this.#target - TEMP_SETPOINT_C)) * dtSeconds;
    this.#target = Math.min(TEMP_SETPOINT_C + TEMP_WANDER_C, Math.max(TEMP_SETPOINT_C - TEMP_WANDER_C, this.#target));
    this.#water += ((this.#target - this.#water) * Math.min(1, dtSeconds / TEMP_TIME_CONSTANT_S));
    const spike = this.#random() < SPIKE_PER_SECOND * dtSeconds ? SPIKE_C[0]! + this.#random() * (SPIKE_C[1]! - SPIKE_C[0]!) : 0;
    const temp = this.#water + this.#noise(TEMP_NOISE_C) + spike;

    const goal = pumpCommand ? NOMINAL_RPM : 0;
    const ramp = RAMP_RPM_PER_S * dtSeconds;
    this.#rpm = this.#rpm < goal ? Math.min(goal, this.#rpm + ramp) : Math.max(goal, this.#rpm - ramp);
    const load = this.#rpm / NOMINAL_RPM;
    const rpm = this.#rpm === 0 ? 0 : Math.max(0, this.#rpm + this.#noise(3));
    const flow = this.#rpm === 0 ? 0 : Math.max(0, NOMINAL_FLOW_LPH * load + this.#noise(20));
    const press = 1.2 + 1.3 * load + 0.01 * (this.#water - TEMP_SETPOINT_C) + this.#noise(0.01);
    this.#energyKWh += ((CONTROLS_KW + PUMP_KW * load ** 3) * dtSeconds) / 3600;

    return {
      'boiler.temp': temp,
      'boiler.press': press,
      'feed.flow': flow,
      'pump.speed': rpm,
      'pump.energy': this.#energyKWh,
      'pump.running': pumpCommand,
      'boiler.overtemp': temp > OVERTEMP_C,
    };
  }

  /** Uniform noise in ±amplitude. */
  #noise(amplitude: number): number {
    return (this.#random() * 2 - 1) * amplitude;
  }
}
