/**
 * @module fdl/quantity
 * Kubernetes resource quantities as OSCAR's `cpu`, `memory` and friends write them (`500m`, `0.5`, `256Mi`,
 * `1G`, `1e9`). Each check returns an error message instead of throwing, so the schema can report every bad
 * quantity of a file at its line and column; the `parse…` functions throw for direct callers.
 */
import { PlatformError } from '../core/index.js';

// Same grammar as k8s.io/apimachinery's resource.Quantity: a signed decimal, then a binary suffix,
// a decimal suffix or a decimal exponent.
const QUANTITY_PATTERN = /^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

const BINARY_SUFFIXES: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL_SUFFIXES: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** The outcome of reading one quantity: its value, or a message that says what is wrong and how to write it. */
export type QuantityResult = { ok: true; value: number } | { ok: false; message: string };

function readQuantity(text: string): { value: number; suffix: string } | undefined {
  const match = QUANTITY_PATTERN.exec(text.trim());
  if (!match) return undefined;
  const number = Number(match[1]);
  const suffix = match[2] ?? '';
  let factor: number;
  if (suffix in BINARY_SUFFIXES) factor = BINARY_SUFFIXES[suffix] ?? 1;
  else if (/^[eE]/.test(suffix)) factor = 10 ** Number(suffix.slice(1));
  else factor = DECIMAL_SUFFIXES[suffix] ?? 1;
  const value = number * factor;
  return Number.isFinite(value) ? { value, suffix } : undefined;
}

/** Reads a CPU quantity (`2`, `0.5`, `500m`) as a number of CPUs. */
export function checkCpuQuantity(text: string): QuantityResult {
  const read = readQuantity(text);
  if (!read) {
    return {
      ok: false,
      message: `"${text}" is not a CPU quantity; write a number of CPUs ("0.5", "2") or millicores ("500m")`,
    };
  }
  if (read.suffix in BINARY_SUFFIXES) {
    return { ok: false, message: `"${text}" is a byte size, not a CPU quantity; write "0.5", "2" or "500m"` };
  }
  if (read.value <= 0) return { ok: false, message: `CPU quantity "${text}" must be greater than 0` };
  // Kubernetes keeps CPU to the millicore; rounding here keeps 0.1 + 0.2 style noise out of the spec.
  return { ok: true, value: Math.round(read.value * 1000) / 1000 };
}

/** Reads a byte quantity (`256Mi`, `1G`, `1e9`, `134217728`) as a whole number of bytes. */
export function checkByteQuantity(text: string): QuantityResult {
  const trimmed = text.trim();
  const mistaken = /^(\d+(?:\.\d+)?)\s*([KMGTPE])i?B$/i.exec(trimmed);
  if (mistaken) {
    const [, amount, unit] = mistaken;
    const upper = (unit ?? 'M').toUpperCase();
    return {
      ok: false,
      message: `"${text}" is not a Kubernetes quantity; write "${amount}${upper}i" (or "${amount}${upper}")`,
    };
  }
  const read = readQuantity(trimmed);
  if (!read) {
    return { ok: false, message: `"${text}" is not a byte quantity; write e.g. "256Mi", "1Gi" or "500M"` };
  }
  if (read.suffix === 'm' || read.suffix === 'u' || read.suffix === 'n') {
    // "256m" is 0.256 bytes for Kubernetes; nobody means that.
    return {
      ok: false,
      message: `"${text}" means ${read.value} bytes; did you mean "${trimmed.slice(0, -1)}Mi"?`,
    };
  }
  if (read.value <= 0) return { ok: false, message: `byte quantity "${text}" must be greater than 0` };
  // Kubernetes rounds fractional bytes up.
  return { ok: true, value: Math.ceil(read.value) };
}

function unwrap(result: QuantityResult, field: string): number {
  if (result.ok) return result.value;
  throw new PlatformError('VALIDATION_FAILED', `${field}: ${result.message}`, {
    details: { issues: [{ path: field, message: result.message }] },
  });
}

/** CPUs in a Kubernetes CPU quantity; throws VALIDATION_FAILED naming `field` when it is not one. */
export function parseCpuQuantity(text: string, field = 'cpu'): number {
  return unwrap(checkCpuQuantity(text), field);
}

/** Bytes in a Kubernetes byte quantity; throws VALIDATION_FAILED naming `field` when it is not one. */
export function parseByteQuantity(text: string, field = 'memory'): number {
  return unwrap(checkByteQuantity(text), field);
}
