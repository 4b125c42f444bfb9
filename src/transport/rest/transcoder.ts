import { create, ScalarType, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { createContextValues, createHandlerContext, type HandlerContext } from "@connectrpc/connect";
import { principalKey, type Guard } from "../../auth/guard.js";
import type { Principal } from "../../auth/verifier.js";
import type { FastifyReply, FastifyRequest } from "fastify";
import { InvalidArgumentError, UnimplementedError } from "../../domain/errors.js";
import type { BoundService } from "../services/index.js";
import type { RestRoute } from "./http-rules.js";
import { fromLegacyJson, mergeLegacyJson, parseEnum, parseScalar, toLegacyJson, type Json } from "./legacy-json.js";

type UnaryFn = (req: Message, ctx: HandlerContext) => Promise<unknown> | unknown;

/**
 * Builds the request message of a route from the path, the query and the body, exactly as
 * the `google.api.http` rule binds them.
 */
export function buildRequest(route: RestRoute, req: FastifyRequest): Message {
  const input = route.method.input;
  const message = create(input);
  const r = reflect(input, message);
  const bound = new Set(route.pathFields);

  const params = req.params as Record<string, string>;
  for (const name of route.pathFields) {
    r.set(fieldNamed(input, name), params[name] ?? "");
  }

  if (route.body === "*") {
    if (req.body !== undefined) mergeLegacyJson(input, message, req.body, "");
    for (const f of input.fields) bound.add(f.name);
  } else if (route.body) {
    const field = fieldNamed(input, route.body);
    if (req.body !== undefined && field.message) {
      r.set(field, reflect(field.message, fromLegacyJson(field.message, req.body, "")) as never);
    }
    bound.add(route.body);
  }

  const query = req.query as Record<string, string | string[]>;
  for (const [key, raw] of Object.entries(query)) {
    const field = input.fields.find((f) => (f.jsonName === key || f.name === key) && !bound.has(f.name));
    if (!field || field.fieldKind === "message" || field.fieldKind === "map") {
      throw new InvalidArgumentError(key, "is not a parameter of this endpoint");
    }
    if (Array.isArray(raw)) throw new InvalidArgumentError(key, "must be given once");
    if (field.fieldKind === "list") throw new InvalidArgumentError(key, "is not a parameter of this endpoint");
    r.set(field, field.enum ? parseEnum(field.enum, raw, key) : parseQueryScalar(field, raw, key));
  }

  const key = req.headers["idempotency-key"];
  const keyField = input.fields.find((f) => f.name === "idempotency_key");
  if (keyField && typeof key === "string" && key !== "" && !r.isSet(keyField)) r.set(keyField, key);
  return message;
}

function parseQueryScalar(field: DescField, raw: string, key: string): unknown {
  if (field.scalar === undefined) throw new InvalidArgumentError(key, "is not a parameter of this endpoint");
  if (field.scalar === ScalarType.BOOL) {
    if (raw !== "true" && raw !== "false") throw new InvalidArgumentError(key, "must be true or false");
    return raw === "true";
  }
  return parseScalar(field.scalar, field.scalar === ScalarType.STRING ? raw : raw.trim(), key);
}

function fieldNamed(desc: DescMessage, name: string): DescField {
  const field = desc.fields.find((f) => f.name === name);
  if (!field) throw new Error(`${desc.typeName} has no field ${name}`);
  return field;
}

/** Renders the response per `response_body`, or nothing where the route has no body. */
export function renderResponse(route: RestRoute, output: object): Json | undefined {
  if (!route.hasBody) return undefined;
  const json = toLegacyJson(route.method.output, output);
  if (!route.responseBody) return json;
  return json[fieldNamed(route.method.output, route.responseBody).jsonName] ?? null;
}

/**
 * A Fastify route (an `onRequest` hook and a handler) that calls the bound implementation
 * in-process: no RPC round trip. The caller is authenticated first, before the body is read.
 */
export function restHandler(route: RestRoute, bound: BoundService, guard: Guard) {
  const impl = (bound.impl as Record<string, UnaryFn | undefined>)[route.method.localName];
  const principals = new WeakMap<FastifyRequest, Principal>();
  const onRequest = async (req: FastifyRequest) => {
    const principal = await guard.authenticate(toHeaders(req.headers), route.method);
    if (principal) principals.set(req, principal);
  };
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    // Bad input is reported as such even where the method is not served yet.
    const message = buildRequest(route, req);
    if (!impl) {
      throw new UnimplementedError(`${route.httpMethod} ${route.template} is not available in this version`);
    }
    const abort = new AbortController();
    req.raw.once("close", () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    const ctx = createHandlerContext({
      service: bound.service,
      method: route.method,
      protocolName: "rest",
      requestMethod: req.method,
      url: req.url,
      requestSignal: abort.signal,
      requestHeader: headerPairs(req.headers),
      contextValues: createContextValues().set(principalKey, principals.get(req)),
    });
    const output = (await impl(message, ctx)) as object;
    ctx.responseHeader.forEach((value, name) => void reply.header(name, value));
    reply.code(route.successStatus);
    const body = renderResponse(route, output);
    return body === undefined ? reply.send() : reply.send(body);
  };
  return { onRequest, handler };
}

/** Node's request headers as pairs; HTTP/2 pseudo-headers (`:path`, …) are not headers. */
function headerPairs(headers: FastifyRequest["headers"]): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(":")) continue;
    for (const v of Array.isArray(value) ? value : [value]) pairs.push([name, v]);
  }
  return pairs;
}

/** A Fetch `Headers` of the request; a value Fetch refuses is left out rather than failing. */
function toHeaders(headers: FastifyRequest["headers"]): Headers {
  const out = new Headers();
  for (const [name, value] of headerPairs(headers)) {
    try {
      out.append(name, value);
    } catch {
      // not a valid Fetch header; the guard never needs it
    }
  }
  return out;
}
