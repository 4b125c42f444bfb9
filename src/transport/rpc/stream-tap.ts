import type { StreamResponse, UnaryResponse } from "@connectrpc/connect";

/**
 * Lets an interceptor see how a call ends: at once for a unary call, after its last message
 * (or its error) for a server stream. `error` returns what to throw instead.
 */
export function tapCallEnd<R extends UnaryResponse | StreamResponse>(res: R, on: { ok(): void; error(err: unknown): unknown }): R {
  if (!res.stream) {
    on.ok();
    return res;
  }
  const messages = res.message;
  return {
    ...res,
    message: (async function* () {
      try {
        yield* messages;
        on.ok();
      } catch (err) {
        throw on.error(err);
      }
    })(),
  };
}
