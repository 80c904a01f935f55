/**
 * The numeric BENCH_* settings of the benchmarks, read from the environment: unset or empty gives
 * the default; anything else that is not a number of the asked kind stops the benchmark with an
 * error naming the variable.
 */
function read(name: string, fallback: number, ok: (value: number) => boolean, what: string): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!ok(value)) throw new Error(`${name} must be ${what}, got ${raw}`);
  return value;
}

export const positiveNumber = (name: string, fallback: number): number => read(name, fallback, (v) => Number.isFinite(v) && v > 0, 'a positive number');

export const numberAtLeast = (name: string, fallback: number, min: number): number => read(name, fallback, (v) => Number.isFinite(v) && v >= min, `a number ≥ ${min}`);

export const integerAtLeast = (name: string, fallback: number, min = 1): number => read(name, fallback, (v) => Number.isInteger(v) && v >= min, `an integer ≥ ${min}`);
