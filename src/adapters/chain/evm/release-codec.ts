/**
 * The on-chain payload formats of a release, shared by the indexer (reading) and the carrier
 * role (writing).
 *
 * - Release data: UTF-8 JSON of `ReleaseData`, dates as ISO 8601 strings (or null), sealed
 *   with a random data key (AES-256-GCM, `seal`); the data key is wrapped (RSA-OAEP) for each
 *   party. The contract's `sealedData` holds the sealed bytes, `wrappedKeyOf(id, party)` a
 *   party's wrapped key.
 * - Green lights: UTF-8 JSON `{ source, events: { <light>: { value, updatedAt } } }`. Colours and
 *   the total are never stored: a reader recomputes them from the values with the spec's table,
 *   so no party can publish a false green. Empty bytes are the initial lights.
 * - The pincode is opaque bytes (sealed by the carrier for one party, `sealFor`); API users see
 *   it as lower-case hex without 0x.
 * - Assignment: UTF-8 JSON `{ v: 1, sealed, keys: { <address>: <wrapped key> } }` (hex strings):
 *   the driver or barge as JSON, sealed with a fresh data key wrapped for the owner and the
 *   terminal, so the terminal can check who presents themselves at the gate.
 */
import { getBytes, hexlify } from "ethers";
import { z } from "zod";
import { applyLights, initialGreenLights } from "../../../domain/releases/greenlights.js";
import { LIGHT_NAMES, type Assignment, type GreenLights, type LightName, type ReleaseData } from "../../../domain/releases/model.js";
import type { Wallet } from "../../../ports/wallet.js";
import { generateDataKey, open, seal, wrapKeyFor } from "../../wallet/envelope.js";

/** Bytes as the contract returns them: a Uint8Array, or 0x-prefixed hex (ethers). */
export type Bytes = Uint8Array | string;

export class ReleaseCodecError extends Error {
  override readonly name = "ReleaseCodecError";
}

const toBytes = (what: string, value: Bytes): Uint8Array => {
  if (value instanceof Uint8Array) return value;
  try {
    return getBytes(value);
  } catch (err) {
    throw new ReleaseCodecError(`${what} is not bytes (expected 0x-prefixed hex)`, { cause: err });
  }
};

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

function parseJson(what: string, bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8Decoder.decode(bytes);
  } catch (err) {
    throw new ReleaseCodecError(`${what} is not UTF-8 text`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ReleaseCodecError(`${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

function issuesOf(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`).join("; ");
}

// ---------------------------------------------------------------------------------------------
// Release data

/** A text field; absent means "" (payloads from gateways that did not know the field). */
const text = z.string().default("");
/** An ISO 8601 date-time, or null/absent. */
const date = z
  .union([z.string(), z.null()])
  .default(null)
  .transform((value, ctx) => {
    if (value === null || value === "") return null;
    const d = new Date(value);
    if (Number.isNaN(d.getTime())) {
      ctx.addIssue({ code: "custom", message: `must be an ISO 8601 date-time or null, not ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return d;
  });

const releaseDataSchema = z.object({
  billOfLading: z.object({
    blNumber: z.string(),
    portOfLoading: text,
    portOfDestination: text,
    vessel: text,
    agent: text,
    stayNumber: text,
    lloydsNumber: text,
    voyageNumber: text,
  }),
  container: z.object({
    containerNumber: z.string(),
    containerStatus: text,
    pickupLocation: text,
    pickupLoCode: text,
    turnInLocation: text,
    turnInLoCode: text,
    turnInReference: text,
    termsAndConditions: text,
    validFrom: date,
    validUntil: date,
    isoTypeCode: text,
  }),
});

const iso = (d: Date | null): string | null => {
  if (d === null) return null;
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new ReleaseCodecError("release data holds an invalid date");
  return d.toISOString();
};

/** UTF-8 JSON of the release data, dates as ISO strings; unknown fields are dropped. */
export function encodeReleaseData(data: ReleaseData): Uint8Array {
  const b = data.billOfLading;
  const c = data.container;
  const json = {
    billOfLading: {
      blNumber: b.blNumber,
      portOfLoading: b.portOfLoading,
      portOfDestination: b.portOfDestination,
      vessel: b.vessel,
      agent: b.agent,
      stayNumber: b.stayNumber,
      lloydsNumber: b.lloydsNumber,
      voyageNumber: b.voyageNumber,
    },
    container: {
      containerNumber: c.containerNumber,
      containerStatus: c.containerStatus,
      pickupLocation: c.pickupLocation,
      pickupLoCode: c.pickupLoCode,
      turnInLocation: c.turnInLocation,
      turnInLoCode: c.turnInLoCode,
      turnInReference: c.turnInReference,
      termsAndConditions: c.termsAndConditions,
      validFrom: iso(c.validFrom),
      validUntil: iso(c.validUntil),
      isoTypeCode: c.isoTypeCode,
    },
  };
  return utf8.encode(JSON.stringify(json));
}

/** Reverses `encodeReleaseData`; throws `ReleaseCodecError` naming what is wrong. */
export function decodeReleaseData(bytes: Bytes): ReleaseData {
  const parsed = releaseDataSchema.safeParse(parseJson("release data", toBytes("release data", bytes)));
  if (!parsed.success) throw new ReleaseCodecError(`release data is malformed: ${issuesOf(parsed.error)}`);
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------
// Green lights

const greenLightsSchema = z.object({
  source: z.string().default(""),
  events: z
    .record(
      z.string(),
      z.object({
        value: z.string(),
        updatedAt: z.string().default(""),
      }),
    )
    .default({}),
});

/** UTF-8 JSON of the values only (no colours, no total). */
export function encodeGreenLights(g: GreenLights): Uint8Array {
  const events: Record<string, { value: string; updatedAt: string }> = {};
  for (const name of LIGHT_NAMES) {
    const light = g.events[name];
    events[name] = { value: light.value, updatedAt: light.updatedAt };
  }
  return utf8.encode(JSON.stringify({ source: g.source, events }));
}

/**
 * The lights as published on chain; empty bytes are `initialGreenLights()`. Every colour and
 * the total are recomputed from the values; lights this version does not know are ignored.
 */
export function decodeGreenLights(bytes: Bytes): GreenLights {
  const raw = toBytes("green lights", bytes);
  if (raw.length === 0) return initialGreenLights();
  const parsed = greenLightsSchema.safeParse(parseJson("green lights", raw));
  if (!parsed.success) throw new ReleaseCodecError(`green lights are malformed: ${issuesOf(parsed.error)}`);
  const updates: Partial<Record<LightName, { value: string; updatedAt: string }>> = {};
  for (const name of LIGHT_NAMES) {
    const e = parsed.data.events[name];
    if (e) updates[name] = e;
  }
  return applyLights(initialGreenLights(parsed.data.source), updates, parsed.data.source);
}

// ---------------------------------------------------------------------------------------------
// Sealing

export interface SealedRelease {
  /** `seal(encodeReleaseData(data), dataKey)`: the contract's `sealedData`. */
  sealedData: Uint8Array;
  /** The data key wrapped for each public key, in the order given. */
  wrappedKeys: Uint8Array[];
}

/** Seals the release data with a fresh data key and wraps that key for each party's PEM key. */
export function sealReleaseFor(data: ReleaseData, publicKeyPems: string[]): SealedRelease {
  const dataKey = generateDataKey();
  try {
    return {
      sealedData: seal(encodeReleaseData(data), dataKey),
      wrappedKeys: publicKeyPems.map((pem) => wrapKeyFor(pem, dataKey)),
    };
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Opens sealed release data with this wallet's wrapped key. Throws when the key was not
 * wrapped for this wallet (or is empty), when the data was altered, or when it is malformed.
 */
export function openRelease(sealedData: Bytes, wrappedKey: Bytes, wallet: Pick<Wallet, "unwrapKey">): ReleaseData {
  const wrapped = toBytes("wrapped key", wrappedKey);
  if (wrapped.length === 0) throw new ReleaseCodecError("no data key is wrapped for this organisation");
  const dataKey = wallet.unwrapKey(wrapped);
  try {
    return decodeReleaseData(open(toBytes("sealed data", sealedData), dataKey));
  } finally {
    dataKey.fill(0);
  }
}

// ---------------------------------------------------------------------------------------------
// Pincode

/** The encrypted pincode as API users see it: lower-case hex without 0x ("" when none). */
export function pinToHex(bytes: Bytes): string {
  return hexlify(toBytes("encrypted pincode", bytes)).slice(2).toLowerCase();
}

/** Reverses `pinToHex` (accepts an optional 0x). */
export function pinFromHex(hex: string): Uint8Array {
  const clean = hex.startsWith("0x") || hex.startsWith("0X") ? hex.slice(2) : hex;
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean)) throw new ReleaseCodecError("encrypted pincode must be hexadecimal, whole bytes");
  return getBytes("0x" + clean);
}

// ---------------------------------------------------------------------------------------------
// Assignment

const assignmentSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("driver"),
    firstName: z.string(),
    lastName: z.string(),
    email: text,
    phone: text,
    identification: z.string(),
  }),
  z.object({ type: z.literal("barge"), name: z.string(), identification: z.string(), visitNumber: text }),
]);

const assignmentEnvelopeSchema = z.object({
  v: z.literal(1),
  sealed: z.string(),
  keys: z.record(z.string(), z.string()),
});

/** Seals the assignment for each recipient (the owner and, when set, the terminal). */
export function sealAssignment(a: Assignment, recipients: { address: string; publicKeyPem: string }[]): Uint8Array {
  const dataKey = generateDataKey();
  try {
    const keys: Record<string, string> = {};
    for (const r of recipients) keys[r.address.toLowerCase()] = hexlify(wrapKeyFor(r.publicKeyPem, dataKey));
    const sealed = hexlify(seal(utf8.encode(JSON.stringify(a)), dataKey));
    return utf8.encode(JSON.stringify({ v: 1, sealed, keys }));
  } finally {
    dataKey.fill(0);
  }
}

/**
 * The assignment as `self` may read it: null when there is none or it was not sealed for
 * `self`. Throws `ReleaseCodecError` when it is malformed or altered.
 */
export function openAssignment(bytes: Bytes, self: string, wallet: Pick<Wallet, "unwrapKey">): Assignment | null {
  const raw = toBytes("assignment", bytes);
  if (raw.length === 0) return null;
  const envelope = assignmentEnvelopeSchema.safeParse(parseJson("assignment", raw));
  if (!envelope.success) throw new ReleaseCodecError(`assignment is malformed: ${issuesOf(envelope.error)}`);
  const wrapped = envelope.data.keys[self.toLowerCase()];
  if (!wrapped) return null;
  const dataKey = wallet.unwrapKey(toBytes("assignment key", wrapped));
  try {
    const parsed = assignmentSchema.safeParse(parseJson("assignment", open(toBytes("sealed assignment", envelope.data.sealed), dataKey)));
    if (!parsed.success) throw new ReleaseCodecError(`assignment is malformed: ${issuesOf(parsed.error)}`);
    return parsed.data;
  } finally {
    dataKey.fill(0);
  }
}
