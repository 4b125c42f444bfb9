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
import { reflect } from "@bufbuild/protobuf/reflect";
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

/**
 * Renders a message, or a plain object of the message's init shape (as service handlers
 * return them), as legacy JSON. A renderer is compiled once per message type.
 */
export function toLegacyJson(desc: DescMessage, message: object): { [key: string]: Json } {
  return rendererFor(desc)(message);
}

type Renderer = (message: object) => { [key: string]: Json };
const renderers = new Map<string, Renderer>();

function rendererFor(desc: DescMessage): Renderer {
  let renderer = renderers.get(desc.typeName);
  if (!renderer) {
    // Registered before compiling the fields, so recursive message types terminate.
    const fields: [string, (m: Record<string, unknown>) => Json][] = [];
    // Handlers' results are never changed once returned, and some are returned again for
    // unchanged data (memoised releases): the rendering is kept on the object's identity.
    const rendered = new WeakMap<object, { [key: string]: Json }>();
    renderer = (message) => {
      const done = rendered.get(message);
      if (done) return done;
      const m = message as Record<string, unknown>;
      const out: { [key: string]: Json } = {};
      for (const [key, render] of fields) out[key] = render(m);
      rendered.set(message, out);
      return out;
    };
    renderers.set(desc.typeName, renderer);
    for (const field of desc.fields) fields.push([field.jsonName, compileField(field)]);
  }
  return renderer;
}

function compileField(field: DescField): (m: Record<string, unknown>) => Json {
  const value = compileValue(field);
  const name = field.localName;
  const read: (m: Record<string, unknown>) => unknown = field.oneof
    ? (m) => {
        const o = m[field.oneof!.localName] as { case?: string; value?: unknown } | undefined;
        return o?.case === name ? o.value : undefined;
      }
    : (m) => m[name];
  switch (field.fieldKind) {
    case "list":
      return (m) => ((read(m) as unknown[] | undefined) ?? []).map(value);
    case "map":
      return (m) => {
        const obj: { [key: string]: Json } = {};
        for (const [k, v] of Object.entries((read(m) as Record<string, unknown> | undefined) ?? {})) obj[k] = value(v);
        return obj;
      };
    case "message":
      return (m) => {
        const v = read(m);
        return v === undefined || v === null ? null : value(v);
      };
    case "enum":
    case "scalar": {
      // Presence 1 is EXPLICIT (proto3 `optional`) and oneof members: unset is null.
      const nullable = field.presence === 1 || field.oneof !== undefined;
      const zero = field.fieldKind === "enum" ? 0 : scalarZero(field.scalar);
      return (m) => {
        const v = read(m);
        if (v === undefined) return nullable ? null : value(zero);
        return value(v);
      };
    }
  }
}

function compileValue(field: DescField): (v: unknown) => Json {
  if (field.enum) {
    const names = new Map(field.enum.values.map((v) => [v.number, enumLegacyName(field.enum!, v.number)]));
    return (v) => names.get(v as number) ?? null;
  }
  if (field.message) {
    if (field.message.typeName === TimestampSchema.typeName) {
      return (v) => timestampDate(v as never).toISOString();
    }
    const sub = rendererFor(field.message);
    return (v) => sub(v as object);
  }
  const type = field.scalar;
  return (v) => renderScalar(type, v);
}

function renderScalar(type: ScalarType | undefined, value: unknown): Json {
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (type === ScalarType.FLOAT || type === ScalarType.DOUBLE) {
    return Number.isFinite(value as number) ? (value as number) : String(value);
  }
  return value as Json;
}

function scalarZero(type: ScalarType | undefined): unknown {
  switch (type) {
    case ScalarType.STRING:
      return "";
    case ScalarType.BOOL:
      return false;
    case ScalarType.BYTES:
      return new Uint8Array(0);
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 0n;
    default:
      return 0;
  }
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
      case "map": {
        if (typeof value !== "object" || Array.isArray(value)) throw new InvalidArgumentError(name, "must be a JSON object");
        const map = r.get(field);
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          if (v === null) throw new InvalidArgumentError(`${name}.${k}`, "must not be null");
          const mapKey = field.mapKey === ScalarType.STRING ? k : parseScalar(field.mapKey, k, `${name}.${k}`);
          map.set(mapKey as never, parseValue(field, v, `${name}.${k}`) as never);
        }
        break;
      }
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
