import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { DomainError, type ErrorKind } from "../domain/errors.js";
import { ErrorBodySchema, ErrorCode } from "../../gen/scr/v1/errors_pb.js";

interface Mapping {
  connect: Code;
  http: number;
  code: ErrorCode;
}

/** The one place where domain error kinds become wire errors, for every transport. */
const MAPPINGS: Record<ErrorKind, Mapping> = {
  invalid_argument: { connect: Code.InvalidArgument, http: 400, code: ErrorCode.INVALID_ARGUMENT },
  unauthenticated: { connect: Code.Unauthenticated, http: 401, code: ErrorCode.UNAUTHENTICATED },
  permission_denied: { connect: Code.PermissionDenied, http: 403, code: ErrorCode.PERMISSION_DENIED },
  not_found: { connect: Code.NotFound, http: 404, code: ErrorCode.NOT_FOUND },
  already_exists: { connect: Code.AlreadyExists, http: 409, code: ErrorCode.ALREADY_EXISTS },
  failed_precondition: { connect: Code.FailedPrecondition, http: 409, code: ErrorCode.FAILED_PRECONDITION },
  unavailable: { connect: Code.Unavailable, http: 503, code: ErrorCode.UNAVAILABLE },
  unimplemented: { connect: Code.Unimplemented, http: 501, code: ErrorCode.UNIMPLEMENTED },
  payload_too_large: { connect: Code.ResourceExhausted, http: 413, code: ErrorCode.PAYLOAD_TOO_LARGE },
  unsupported_media_type: { connect: Code.InvalidArgument, http: 415, code: ErrorCode.UNSUPPORTED_MEDIA_TYPE },
  deadline_exceeded: { connect: Code.DeadlineExceeded, http: 504, code: ErrorCode.DEADLINE_EXCEEDED },
  internal: { connect: Code.Internal, http: 500, code: ErrorCode.INTERNAL },
};

/** Connect codes that reach REST without passing through a DomainError (e.g. a deadline). */
const FROM_CONNECT: Partial<Record<Code, ErrorKind>> = {
  [Code.InvalidArgument]: "invalid_argument",
  [Code.Unauthenticated]: "unauthenticated",
  [Code.PermissionDenied]: "permission_denied",
  [Code.NotFound]: "not_found",
  [Code.AlreadyExists]: "already_exists",
  [Code.FailedPrecondition]: "failed_precondition",
  [Code.Unavailable]: "unavailable",
  [Code.Unimplemented]: "unimplemented",
  [Code.DeadlineExceeded]: "deadline_exceeded",
  [Code.ResourceExhausted]: "payload_too_large",
};

export interface WireError {
  kind: ErrorKind;
  status: number;
  /** The legacy REST body. Faults (5xx other than 501/503/504) never show their message. */
  body: { code: number; description: string };
}

export function toWireError(err: unknown): WireError {
  let kind: ErrorKind = "internal";
  let message = "internal error";
  if (err instanceof DomainError) {
    kind = err.kind;
    message = err.message;
  } else if (err instanceof ConnectError) {
    kind = FROM_CONNECT[err.code] ?? "internal";
    message = err.rawMessage;
  }
  const m = MAPPINGS[kind];
  const description = kind === "internal" ? "internal error" : message;
  return { kind, status: m.http, body: { code: m.code, description } };
}

/** For RPC: the same mapping, with the legacy body attached as a typed error detail. */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError && !(err.cause instanceof DomainError)) return err;
  const wire = toWireError(err);
  const detail = create(ErrorBodySchema, { code: wire.body.code, description: wire.body.description });
  return new ConnectError(wire.body.description, MAPPINGS[wire.kind].connect, undefined, [
    { desc: ErrorBodySchema, value: detail },
  ], err);
}

export function isFault(err: unknown): boolean {
  return toWireError(err).kind === "internal";
}
