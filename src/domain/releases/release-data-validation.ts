import { InvalidArgumentError } from "../errors.js";
import { TEXT_LIMIT, checkText } from "../validation.js";
import type { ReleaseData } from "./model.js";

type BillOfLading = ReleaseData["billOfLading"];
type Container = ReleaseData["container"];

/**
 * Release data as a caller sends it: every part may be missing (an absent text is ""), dates
 * are already parsed by the transport (null or absent when not given).
 */
export interface ReleaseDataInput {
  billOfLading?: Partial<BillOfLading>;
  container?: Partial<Container>;
}

/** Where release data sits in the request, in the caller's JSON spelling. */
export const RELEASE_DATA_FIELD = "release_data";

const BILL_OF_LADING_TEXTS = [
  "blNumber",
  "portOfLoading",
  "portOfDestination",
  "vessel",
  "agent",
  "stayNumber",
  "lloydsNumber",
  "voyageNumber",
] as const satisfies readonly (keyof BillOfLading)[];

const CONTAINER_TEXTS = [
  "containerNumber",
  "containerStatus",
  "pickupLocation",
  "pickupLoCode",
  "turnInLocation",
  "turnInLoCode",
  "turnInReference",
  "termsAndConditions",
  "isoTypeCode",
] as const satisfies readonly (keyof Container)[];

const REQUIRED: ReadonlySet<string> = new Set(["blNumber", "containerNumber"]);

/** The one text field without the spec's 255-character limit (an HTML object). */
const UNLIMITED: ReadonlySet<string> = new Set(["termsAndConditions"]);

function texts<K extends string>(prefix: string, keys: readonly K[], input: Partial<Record<K, unknown>> | undefined): Record<K, string> {
  const out = {} as Record<K, string>;
  for (const key of keys) {
    const field = `${prefix}.${key}`;
    const value = input?.[key] ?? "";
    if (typeof value !== "string") throw new InvalidArgumentError(field, "must be text");
    out[key] = checkText(field, value, { required: REQUIRED.has(key), max: UNLIMITED.has(key) ? Number.MAX_SAFE_INTEGER : TEXT_LIMIT });
  }
  return out;
}

function date(field: string, value: unknown): Date | null {
  if (value === undefined || value === null) return null;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new InvalidArgumentError(field, "must be a date-time");
  return value;
}

/**
 * The carrier's release data, checked: blNumber and containerNumber are mandatory, every text
 * is at most 255 characters except termsAndConditions, and validFrom is not after validUntil
 * when both are set. Errors name the field as the caller spells it
 * (`release_data.billOfLading.blNumber`).
 */
export function checkReleaseData(input: ReleaseDataInput | undefined, field = RELEASE_DATA_FIELD): ReleaseData {
  if (input === undefined || input === null) throw new InvalidArgumentError(field, "is required");
  const billOfLading = texts(`${field}.billOfLading`, BILL_OF_LADING_TEXTS, input.billOfLading);
  const container = texts(`${field}.container`, CONTAINER_TEXTS, input.container);
  const validFrom = date(`${field}.container.validFrom`, input.container?.validFrom);
  const validUntil = date(`${field}.container.validUntil`, input.container?.validUntil);
  if (validFrom && validUntil && validFrom.getTime() > validUntil.getTime()) {
    throw new InvalidArgumentError(`${field}.container.validUntil`, "must not be before validFrom");
  }
  return { billOfLading, container: { ...container, validFrom, validUntil } };
}

const PINCODE = /^[0-9A-Za-z]+$/;

/** The pincode a driver presents at the gate: mandatory, letters and digits, at most 255. */
export function checkPincode(field: string, value: string): string {
  checkText(field, value, { required: true });
  if (!PINCODE.test(value)) throw new InvalidArgumentError(field, "must consist of letters and digits only");
  return value;
}

/**
 * The fields of the specification's table of updatable fields that the carrier cannot change
 * once the release exists (in the release data: the agent). An update that leaves one empty
 * keeps the current value; one that changes it is refused.
 */
export function keepFixedFields(update: ReleaseData, current: ReleaseData, field = RELEASE_DATA_FIELD): ReleaseData {
  const agent = update.billOfLading.agent;
  if (agent === "" || agent === current.billOfLading.agent) {
    return { ...update, billOfLading: { ...update.billOfLading, agent: current.billOfLading.agent } };
  }
  throw new InvalidArgumentError(`${field}.billOfLading.agent`, "cannot be updated (the specification's table of updatable fields)");
}
