import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import {
  DomainError,
  InvalidArgumentError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from "../../domain/errors.js";
import { toWireError } from "../errors.js";

/** Fastify's own 4xx errors (body parsing, limits) in domain terms. */
function fromFastify(err: FastifyError): unknown {
  if (err instanceof DomainError) return err;
  switch (err.statusCode) {
    case 413:
      return new PayloadTooLargeError("request body is larger than the configured limit");
    case 415:
      return new UnsupportedMediaTypeError("Content-Type must be application/json");
    case 400:
      return new InvalidArgumentError("body", err.message);
    case 404:
      return new NotFoundError(err.message);
  }
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return new InvalidArgumentError("request", err.message);
  }
  return err;
}

/** Every REST error leaves as the legacy body `{"code": n, "description": "…"}`. */
export function legacyErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  const wire = toWireError(fromFastify(err));
  if (wire.status >= 500 && wire.kind === "internal") req.log.error({ err }, "request failed");
  else req.log.info({ code: wire.body.code, status: wire.status }, wire.body.description);
  if (wire.status === 401) reply.header("www-authenticate", "Bearer");
  return reply.code(wire.status).send(wire.body);
}

export function legacyNotFoundHandler(req: FastifyRequest, reply: FastifyReply) {
  const wire = toWireError(new NotFoundError(`no endpoint ${req.method} ${req.url.split("?")[0]}`));
  return reply.code(wire.status).send(wire.body);
}
