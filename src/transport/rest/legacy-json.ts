import {
  create,
  getOption,
  hasOption,
  ScalarType,
  type DescEnum,
  type DescField,
  type DescMessage,
  type Message,
} from "@bufbuild/protobuf";
import { reflect, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import { timestampDate, timestampFromDate, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError } from "../../domain/errors.js";
import { legacy_name } from "../../../gen/scr/v1/options_pb.js";

/**
 * The legacy SCR API JSON, derived from the proto alone:
 * - keys are the fields' JSON names (`json_name` carries legacy spellings such as
 *   `release_data` and `callback_url`);
 * - an unset message field or explicit-presence scalar is `null`, never a missing key;
 * - lists are `[]` when empty; 64-bit integers are JSON numbers;
 * - enums are their `legacy_name` option (`"green"`, `"TRANSFER"`), `null` when unspecified;
 * - Timestamps are ISO 8601 strings with milliseconds, as in the spec's example.
 * Proto3 JSON (`toJson`) differs on every one of these points.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function enumLegacyName(desc: DescEnum, value: number): string | null {
  const v = desc.values.find((x) => x.number === value);
  if (!v || !hasOption(v, legacy_name)) return null;
  return getOption(v, legacy_name);
}

export function toLegacyJson(desc: DescMessage, message: Message): { [key: string]: Json } {
  return renderMessage(reflect(desc, message));
}

function renderMessage(r: ReflectMessage): { [key: string]: Json } {
  if (r.desc.typeName === TimestampSchema.typeName) throw new Error("timestamps render as strings");
  const out: { [key: string]: Json } = {};
  for (const field of r.fields) {
    out[field.jsonName] = renderField(r, field);
  }
  return out;
}

function renderField(r: ReflectMessage, field: DescField): Json {
  switch (field.fieldKind) {
    case "list": {
      const list = r.get(field);
      const items: Json[] = [];
      for (const item of list) items.push(renderValue(field, item));
      return items;
    }
    case "map": {
      const map = r.get(field);
      const obj: { [key: string]: Json } = {};
      for (const [k, v] of map) obj[String(k)] = renderValue(field, v);
      return obj;
    }
    case "message":
      return r.isSet(field) ? renderValue(field, r.get(field)) : null;
    case "enum":
      return r.isSet(field) || field.presence !== 1 ? renderValue(field, r.get(field)) : null;
    case "scalar":
      // Presence 1 is EXPLICIT: proto3 `optional`. Unset means null, not the zero value.
      if (field.presence === 1 && !r.isSet(field)) return null;
      if (field.oneof && !r.isSet(field)) return null;
      return renderValue(field, r.get(field));
  }
}

function renderValue(field: DescField, value: unknown): Json {
  if (field.enum) return enumLegacyName(field.enum, value as number);
  if (field.message) {
    const m = value as ReflectMessage;
    if (m.desc.typeName === TimestampSchema.typeName) {
      return timestampDate(m.message as never).toISOString();
    }
    return renderMessage(m);
  }
  return renderScalar(field.scalar, value);
}

function renderScalar(type: ScalarType | undefined, value: unknown): Json {
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (type === ScalarType.FLOAT || type === ScalarType.DOUBLE) {
    return Number.isFinite(value as number) ? (value as number) : String(value);
  }
  return value as Json;
}

/**
 * Parses legacy JSON into a message. Unknown keys are ignored, as a tolerant reader must for
 * clients that send e.g. `"type": "barge"` to assign_barge; a value of the wrong type is an
 * InvalidArgumentError naming the field as the client spelled it.
 */
export function fromLegacyJson<T extends Message>(desc: DescMessage, json: unknown, path = ""): T {
  const message = create(desc) as T;
  mergeLegacyJson(desc, message, json, path);
  return message;
}

export function mergeLegacyJson(desc: DescMessage, message: Message, json: unknown, path: string): void {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new InvalidArgumentError(path || "body", "must be a JSON object");
  }
  const r = reflect(desc, message);
  for (const [key, value] of Object.entries(json)) {
    const field = desc.fields.find((f) => f.jsonName === key || f.name === key);
    if (!field || value === null) continue;
    const name = path ? `${path}.${key}` : key;
    switch (field.fieldKind) {
      case "list": {
        if (!Array.isArray(value)) throw new InvalidArgumentError(name, "must be an array");
        const list = r.get(field);
        value.forEach((item, i) => list.add(parseValue(field, item, `${name}[${i}]`) as never));
        break;
      }
      case "map":
        throw new InvalidArgumentError(name, "maps are not accepted in legacy JSON");
      default:
        r.set(field, parseValue(field, value, name) as never);
    }
  }
}

function parseValue(field: DescField, value: unknown, name: string): unknown {
  if (field.enum) return parseEnum(field.enum, value, name);
  if (field.message) {
    if (field.message.typeName === TimestampSchema.typeName) {
      if (typeof value !== "string" || Number.isNaN(Date.parse(value))) {
        throw new InvalidArgumentError(name, "must be an ISO 8601 date-time string");
      }
      return reflect(TimestampSchema, timestampFromDate(new Date(value)));
    }
    return reflect(field.message, fromLegacyJson(field.message, value, name));
  }
  return parseScalar(field.scalar ?? ScalarType.STRING, value, name);
}

export function parseEnum(desc: DescEnum, value: unknown, name: string): number {
  if (typeof value === "string") {
    const lower = value.toLowerCase();
    const hit = desc.values.find(
      (v) => (hasOption(v, legacy_name) && getOption(v, legacy_name).toLowerCase() === lower) || v.name === value,
    );
    if (hit && hit.number !== 0) return hit.number;
  }
  const allowed = desc.values.filter((v) => hasOption(v, legacy_name)).map((v) => `"${getOption(v, legacy_name)}"`);
  throw new InvalidArgumentError(name, `must be one of ${allowed.join(", ")}`);
}

const INT32 = [ScalarType.INT32, ScalarType.SINT32, ScalarType.SFIXED32];
const UINT32 = [ScalarType.UINT32, ScalarType.FIXED32];
const INT64 = [ScalarType.INT64, ScalarType.SINT64, ScalarType.SFIXED64, ScalarType.UINT64, ScalarType.FIXED64];

export function parseScalar(type: ScalarType, value: unknown, name: string): unknown {
  switch (type) {
    case ScalarType.STRING:
      if (typeof value !== "string") throw new InvalidArgumentError(name, "must be a string");
      return value;
    case ScalarType.BOOL:
      if (typeof value !== "boolean") throw new InvalidArgumentError(name, "must be true or false");
      return value;
    case ScalarType.BYTES:
      if (typeof value !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) {
        throw new InvalidArgumentError(name, "must be a base64 string");
      }
      return new Uint8Array(Buffer.from(value, "base64"));
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      if (typeof value !== "number") throw new InvalidArgumentError(name, "must be a number");
      return value;
  }
  const n = typeof value === "number" ? value : typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(name, "must be a whole number");
  if (INT32.includes(type) && (n < -(2 ** 31) || n >= 2 ** 31)) throw new InvalidArgumentError(name, "is out of range");
  if (UINT32.includes(type) && (n < 0 || n >= 2 ** 32)) throw new InvalidArgumentError(name, "is out of range");
  if (INT64.includes(type)) {
    if ((type === ScalarType.UINT64 || type === ScalarType.FIXED64) && n < 0) {
      throw new InvalidArgumentError(name, "is out of range");
    }
    return BigInt(n);
  }
  return n;
}
