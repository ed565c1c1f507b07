/**
 * BACnet engineering units (ASHRAE 135, clause 21: BACnetEngineeringUnits) as the unit names the `si`
 * plugin knows (plugins/si/unit-table.ts), so that a BACnet point in degrees Fahrenheit converts like
 * a Modbus one declared `unit: degF`. A point's `unit` may be written either way: the BACnet name
 * (`degrees-fahrenheit`) is turned into si's spelling here, at load; an si spelling passes unchanged.
 * The numbers are the enumeration's, so that a device's `units` property (read as a number) can be
 * looked up too.
 */

/** BACnet name → [enumeration value, si spelling]. */
export const BACNET_UNITS: Readonly<Record<string, readonly [number, string]>> = {
  // temperature
  'degrees-celsius': [62, 'degC'],
  'degrees-kelvin': [63, 'K'],
  'degrees-fahrenheit': [64, 'degF'],
  // pressure
  pascals: [53, 'Pa'],
  hectopascals: [133, 'hPa'],
  kilopascals: [54, 'kPa'],
  millibars: [134, 'mbar'],
  bars: [55, 'bar'],
  'pounds-force-per-square-inch': [56, 'psi'],
  'millimeters-of-mercury': [59, 'mmHg'],
  // volumetric flow
  'cubic-meters-per-second': [85, 'm3/s'],
  'cubic-meters-per-hour': [135, 'm3/h'],
  'liters-per-second': [87, 'l/s'],
  'liters-per-minute': [88, 'l/min'],
  'liters-per-hour': [136, 'l/h'],
  'us-gallons-per-minute': [89, 'gpm'],
  // energy
  joules: [16, 'J'],
  kilojoules: [17, 'kJ'],
  megajoules: [126, 'MJ'],
  'watt-hours': [18, 'Wh'],
  'kilowatt-hours': [19, 'kWh'],
  'megawatt-hours': [146, 'MWh'],
  // power
  watts: [47, 'W'],
  kilowatts: [48, 'kW'],
  megawatts: [49, 'MW'],
  // length
  meters: [31, 'm'],
  millimeters: [30, 'mm'],
  centimeters: [118, 'cm'],
  kilometers: [193, 'km'],
  inches: [32, 'in'],
  feet: [33, 'ft'],
  // mass
  kilograms: [39, 'kg'],
  grams: [195, 'g'],
  'pounds-mass': [40, 'lb'],
  // speed
  'meters-per-second': [74, 'm/s'],
  'kilometers-per-hour': [75, 'km/h'],
  'miles-per-hour': [78, 'mph'],
  // ratio
  percent: [98, '%'],
  // frequency
  hertz: [27, 'Hz'],
  kilohertz: [129, 'kHz'],
  'revolutions-per-minute': [104, 'rpm'],
  // none
  'no-units': [95, ''],
};

/** The si spelling of a unit written as a BACnet name; any other text unchanged. */
export function siUnitOf(written: string): string {
  return Object.hasOwn(BACNET_UNITS, written) ? BACNET_UNITS[written]![1] : written;
}

/** The si spelling of a BACnet engineering unit number, or undefined when the table has none. */
export function siUnitOfNumber(units: number): string | undefined {
  return Object.values(BACNET_UNITS).find(([n]) => n === units)?.[1];
}
