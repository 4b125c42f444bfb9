import { ScalarType, type DescEnum, type DescField, type DescMessage, type DescService } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { ErrorBodySchema } from "../../../gen/scr/v1/errors_pb.js";
import { restRoutes, type RestRoute } from "../rest/http-rules.js";
import { enumLegacyName } from "../rest/legacy-json.js";
import { commentsOf } from "./proto-comments.js";

/** A JSON Schema 2020-12 object, as OpenAPI 3.1 uses it. */
export type Schema = { [key: string]: unknown };

export interface OpenApiOptions {
  /** The REST prefix, e.g. `/tmining/api/v1`: the document's server. */
  baseURL: string;
  /** Whether the gateway requires a JWT or an API key on every call. */
  authenticated: boolean;
}

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted: the write is recorded as an operation and carried out on the chain asynchronously",
  204: "No Content: the write is recorded as an operation and carried out on the chain asynchronously",
};

/**
 * The OpenAPI 3.1 document of the REST facade, generated from the same `google.api.http`
 * rules the routes are built from, with the legacy JSON shapes the transcoder writes and
 * reads: json names (`release_data`), `null` for unset messages and `optional` fields,
 * enums as their `legacy_name` strings, 64-bit integers as numbers, Timestamps as date-time
 * strings, no body where the route has none (the documented 202s and 204s), and the
 * `{code, description}` body of every error.
 * Descriptions are the proto comments.
 */
export function openApiDocument(services: readonly DescService[], opts: OpenApiOptions): Schema {
  const routes = restRoutes(services).filter((r) => r.method.methodKind === "unary");
  const schemas = new Schemas(requestMessages(routes));
  const paths: Record<string, Record<string, Schema>> = {};
  const operationIds = new Set<string>();
  for (const route of routes) {
    const op = operation(route, schemas, operationIds);
    (paths[route.template] ??= {})[route.httpMethod.toLowerCase()] = op;
  }
  const errorBody = schemas.message(ErrorBodySchema, { errorCodesAsNumbers: true });
  return {
    openapi: "3.1.0",
    info: {
      title: "SCR gateway REST API",
      version: "1.2.9",
      description:
        "The legacy SCR API 1.2.9 REST contract as this gateway serves it, generated from its proto contract. " +
        "The same methods are served over gRPC, gRPC-Web and Connect on the same port.",
    },
    servers: [{ url: opts.baseURL, description: "this gateway" }],
    tags: services
      .filter((s) => routes.some((r) => r.method.parent === s))
      .map((s) => ({ name: s.name, description: comment(s.file, s.typeName) })),
    paths,
    components: {
      schemas: { ...schemas.components, Error: errorBody },
      responses: {
        Error: {
          description: "The legacy error body; `description` names the offending field for bad input",
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        },
      },
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "A JWT signed with the configured authentication key" },
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key", description: "An API key configured in auth.apiKeys" },
      },
    },
    ...(opts.authenticated ? { security: [{ bearer: [] }, { apiKey: [] }] } : {}),
  };
}

function operation(route: RestRoute, schemas: Schemas, operationIds: Set<string>): Schema {
  const method = route.method;
  const service = method.parent;
  const input = method.input;
  const description = comment(service.file, `${service.typeName}.${method.name}`);
  let operationId = method.localName;
  if (operationIds.has(operationId)) operationId = `${service.name}_${method.localName}`;
  operationIds.add(operationId);

  const parameters: Schema[] = route.pathFields.map((name) => {
    const field = fieldNamed(input, name);
    return { name, in: "path", required: true, schema: schemas.value(field), ...describe(field) };
  });
  if (route.body !== "*") {
    const bound = new Set([...route.pathFields, route.body, "idempotency_key"]);
    for (const field of input.fields) {
      if (bound.has(field.name) || field.fieldKind === "list" || field.fieldKind === "map" || field.fieldKind === "message") continue;
      parameters.push({ name: field.jsonName, in: "query", required: false, schema: schemas.value(field), ...describe(field) });
    }
  }
  const idempotency = input.fields.find((f) => f.name === "idempotency_key");
  if (idempotency) {
    parameters.push({ name: "Idempotency-Key", in: "header", required: false, schema: { type: "string" }, ...describe(idempotency) });
  }

  let requestBody: Schema | undefined;
  if (route.body === "*") {
    const bodySchema = schemas.object(input, (f) => !route.pathFields.includes(f.name), false);
    requestBody = { required: true, content: { "application/json": { schema: bodySchema } } };
  } else if (route.body) {
    const field = fieldNamed(input, route.body);
    requestBody = { required: true, content: { "application/json": { schema: schemas.value(field) } }, ...describe(field) };
  }

  const success: Schema = { description: STATUS_TEXT[route.successStatus] ?? "Success" };
  if (route.hasBody) {
    const schema = route.responseBody ? schemas.field(fieldNamed(method.output, route.responseBody)) : schemas.ref(method.output);
    success.content = { "application/json": { schema } };
  }
  const operationField = method.output.fields.find((f) => f.name === "operation_id");
  if (operationField) {
    success.headers = {
      "Operation-Id": { schema: { type: "string" }, description: comment(operationField.parent.file, qualified(operationField)) ?? "The operation" },
    };
  }
  return {
    operationId,
    tags: [service.name],
    summary: description ? firstSentence(description) : `${service.name}.${method.name}`,
    ...(description ? { description } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: {
      [String(route.successStatus)]: success,
      "4XX": { $ref: "#/components/responses/Error" },
      "5XX": { $ref: "#/components/responses/Error" },
    },
  };
}

/** Component schemas of messages, named by message name (the full name on a clash). */
class Schemas {
  readonly components: Record<string, Schema> = {};
  private readonly names = new Map<string, string>();

  /** `requestOnly`: messages reached from request bodies, whose fields are all optional. */
  constructor(private readonly requestOnly: Set<string>) {}

  /** A `$ref` to the message's component, created on first use. */
  ref(desc: DescMessage): Schema {
    let name = this.names.get(desc.typeName);
    if (!name) {
      name = [...this.names.values()].includes(desc.name) ? desc.typeName : desc.name;
      this.names.set(desc.typeName, name);
      // Registered before its fields, so recursive messages terminate.
      this.components[name] = {};
      Object.assign(this.components[name]!, this.message(desc));
    }
    return { $ref: `#/components/schemas/${name}` };
  }

  message(desc: DescMessage, opts: { errorCodesAsNumbers?: boolean } = {}): Schema {
    if (opts.errorCodesAsNumbers) {
      // The REST error body carries the ErrorCode's number, not a legacy name.
      return this.object(desc, () => true, true, (f) => (f.enum ? { type: "integer", enum: f.enum.values.filter((v) => v.number !== 0).map((v) => v.number), description: codeList(f.enum) } : undefined));
    }
    return this.object(desc, () => true, !this.requestOnly.has(desc.typeName));
  }

  /** An object schema of the message's fields, every key required where the gateway writes them all. */
  object(desc: DescMessage, include: (f: DescField) => boolean, required: boolean, override?: (f: DescField) => Schema | undefined): Schema {
    const properties: Record<string, Schema> = {};
    for (const field of desc.fields) {
      if (!include(field)) continue;
      properties[field.jsonName] = described(override?.(field) ?? this.field(field), field);
    }
    const description = comment(desc.file, desc.typeName);
    return {
      type: "object",
      ...(description ? { description } : {}),
      properties,
      ...(required ? { required: Object.keys(properties) } : {}),
    };
  }

  /** A field as the legacy JSON writes it: lists and maps never null, the rest per presence. */
  field(field: DescField): Schema {
    switch (field.fieldKind) {
      case "list":
        return { type: "array", items: this.single(field) };
      case "map":
        return { type: "object", additionalProperties: this.single(field) };
      case "message":
        return nullable(this.single(field));
      case "enum":
        return this.single(field, true);
      case "scalar":
        return field.presence === EXPLICIT || field.oneof ? nullable(this.single(field)) : this.single(field);
    }
  }

  /** A field's value when given (a path or query parameter, a request body). */
  value(field: DescField): Schema {
    return this.single(field);
  }

  private single(field: DescField, allowNull = false): Schema {
    if (field.enum) return enumSchema(field.enum, allowNull);
    if (field.message) {
      if (field.message.typeName === TimestampSchema.typeName) return { type: "string", format: "date-time" };
      return this.ref(field.message);
    }
    return scalarSchema(field.scalar ?? ScalarType.STRING);
  }
}

/** FeatureSet_FieldPresence.EXPLICIT: proto3 `optional`. */
const EXPLICIT = 1;

function nullable(schema: Schema): Schema {
  if (typeof schema.type === "string") return { ...schema, type: [schema.type, "null"] };
  return { anyOf: [schema, { type: "null" }] };
}

function enumSchema(desc: DescEnum, allowNull: boolean): Schema {
  const names = desc.values.map((v) => enumLegacyName(desc, v.number)).filter((n): n is string => n !== null);
  const canBeNull = allowNull && names.length < desc.values.length;
  const described = desc.values
    .filter((v) => enumLegacyName(desc, v.number) !== null)
    .map((v) => `- \`${enumLegacyName(desc, v.number)}\`${suffix(comment(desc.file, `${desc.typeName}.${v.name}`))}`);
  const intro = comment(desc.file, desc.typeName);
  return {
    type: canBeNull ? ["string", "null"] : "string",
    enum: canBeNull ? [...names, null] : names,
    description: [intro, ...described].filter(Boolean).join("\n"),
  };
}

function codeList(desc: DescEnum): string {
  const intro = comment(desc.file, desc.typeName);
  const values = desc.values.filter((v) => v.number !== 0).map((v) => `- \`${v.number}\`${suffix(comment(desc.file, `${desc.typeName}.${v.name}`))}`);
  return [intro, ...values].filter(Boolean).join("\n");
}

function scalarSchema(type: ScalarType): Schema {
  switch (type) {
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64" };
    case ScalarType.DOUBLE:
      return { type: "number", format: "double" };
    case ScalarType.FLOAT:
      return { type: "number", format: "float" };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", format: "int64", minimum: 0, maximum: 2 ** 32 - 1 };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: "integer", format: "int64", minimum: 0 };
    default:
      return { type: "integer", format: "int64" };
  }
}

/** Messages a request body reaches: their schemas list no required keys. */
function requestMessages(routes: RestRoute[]): Set<string> {
  const seen = new Set<string>();
  const visit = (desc: DescMessage) => {
    if (seen.has(desc.typeName)) return;
    seen.add(desc.typeName);
    for (const f of desc.fields) if (f.message) visit(f.message);
  };
  for (const route of routes) {
    if (route.body === "*") route.method.input.fields.forEach((f) => f.message && visit(f.message));
    else if (route.body) {
      const field = fieldNamed(route.method.input, route.body);
      if (field.message) visit(field.message);
    }
  }
  return seen;
}

function fieldNamed(desc: DescMessage, name: string): DescField {
  const field = desc.fields.find((f) => f.name === name);
  if (!field) throw new Error(`${desc.typeName} has no field ${name}`);
  return field;
}

function qualified(field: DescField): string {
  return `${field.parent.typeName}.${field.name}`;
}

function comment(file: DescMessage["file"], name: string): string | undefined {
  return commentsOf(file).get(name);
}

function describe(field: DescField): { description?: string } {
  const text = comment(field.parent.file, qualified(field));
  return text ? { description: text } : {};
}

/** The schema with the field's comment before its own description (an enum's values). */
function described(schema: Schema, field: DescField): Schema {
  const text = [describe(field).description, schema.description].filter(Boolean).join("\n\n");
  return text ? { ...schema, description: text } : schema;
}

const suffix = (text: string | undefined) => (text ? `: ${text.replace(/\n/g, " ")}` : "");

/** The comment's first sentence, on one line: the operation's summary. */
function firstSentence(text: string): string {
  const flat = text.replace(/\s*\n\s*/g, " ");
  const m = /^(.+?[.!?])(\s|$)/.exec(flat);
  return m ? m[1]! : flat;
}
