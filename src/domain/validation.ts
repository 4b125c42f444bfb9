import { InvalidArgumentError } from "./errors.js";

/** The spec: "All text fields have a default length of 255 characters." */
export const TEXT_LIMIT = 255;

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

export function checkText(field: string, value: string, opts: { required?: boolean; max?: number } = {}): string {
  const max = opts.max ?? TEXT_LIMIT;
  if (opts.required && value.trim() === "") throw new InvalidArgumentError(field, "is required");
  if (value.length > max) throw new InvalidArgumentError(field, `must be at most ${max} characters`);
  return value;
}

/** An EVM address. Accepts any letter case; the result is lower case for comparisons. */
export function checkAddress(field: string, value: string): string {
  if (value === "") throw new InvalidArgumentError(field, "is required");
  if (!ADDRESS.test(value)) throw new InvalidArgumentError(field, "must be an address: 0x and 40 hexadecimal digits");
  return value.toLowerCase();
}

export function checkPositiveInt(field: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0) throw new InvalidArgumentError(field, "must be a whole number, 0 or more");
  if (value > max) throw new InvalidArgumentError(field, `must be at most ${max}`);
  return value;
}

/** The spec's `since`: "timestamp". Legacy clients send ISO 8601 or epoch milliseconds. */
export function parseTimestamp(field: string, value: string): Date {
  const date = /^\d+$/.test(value) ? new Date(Number(value)) : new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError(field, "must be an ISO 8601 date-time or epoch milliseconds");
  }
  return date;
}
