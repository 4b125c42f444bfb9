import type { HandlerContext } from "@connectrpc/connect";
import type { AppContext } from "../../context.js";
import type { OperationRecord } from "../../ports/operations.js";

/**
 * Tells the caller where to follow an accepted write: an `Operation-Id` header on every
 * protocol and, on REST, a `Location` of GET /operations/{id}. Returns the response field.
 */
export function announceOperation(ctx: AppContext, call: HandlerContext, operationId: string): { operationId: string } {
  call.responseHeader.set("operation-id", operationId);
  if (call.protocolName === "rest") {
    const base = ctx.config.baseURL === "/" ? "" : ctx.config.baseURL;
    call.responseHeader.set("location", `${base}/operations/${operationId}`);
  }
  return { operationId };
}

/**
 * The request's idempotency key: the field, or else the `Idempotency-Key` header (which REST
 * callers use and RPC callers may use too).
 */
export function idempotencyKeyOf(req: { idempotencyKey: string }, call: HandlerContext): string | undefined {
  return req.idempotencyKey || call.requestHeader.get("idempotency-key") || undefined;
}

/** The operation recorded under an idempotency key, so a retried write answers the same. */
export function operationByKey(ctx: AppContext): (key: string) => OperationRecord | undefined {
  return (key) => ctx.store.operations.findOperationByKey(key);
}
