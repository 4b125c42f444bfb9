import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { principalKey, type Guard } from "../../auth/guard.js";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import type { Logger } from "pino";
import { isFault, toConnectError } from "../errors.js";
import type { BoundService } from "../services/index.js";
import { registerReflection } from "./reflection.js";
import { tapCallEnd } from "./stream-tap.js";

export interface RpcOptions {
  services: BoundService[];
  logger: Logger;
  readMaxBytes: number;
  writeMaxBytes: number;
  maxTimeoutMs: number;
  shutdownSignal?: AbortSignal;
  guard: Guard;
  /** Outermost interceptors, e.g. the metrics' (they see the final, mapped error). */
  interceptors?: Interceptor[];
}

/**
 * Maps domain errors to Connect codes, the same mapping REST uses, and logs real faults:
 * errors of a call's start, and those a server stream throws while it runs.
 */
function errorInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const mapped = (err: unknown) => {
      if (isFault(err)) logger.error({ err, procedure: req.url }, "rpc fault");
      return toConnectError(err);
    };
    try {
      return tapCallEnd(await next(req), { ok: () => {}, error: mapped });
    } catch (err) {
      throw mapped(err);
    }
  };
}

/** Authenticates every call, reflection included, inside the error interceptor's mapping. */
function authInterceptor(guard: Guard): Interceptor {
  return (next) => async (req) => {
    req.contextValues.set(principalKey, await guard.authenticate(req.header, req.method));
    return await next(req);
  };
}

export function routes(services: BoundService[]) {
  return (router: ConnectRouter) => {
    for (const { service, impl } of services) router.service(service, impl);
    registerReflection(
      router,
      services.map((s) => s.service),
    );
  };
}

/**
 * gRPC, gRPC-Web and Connect for every bound service. connect-fastify installs no-op body
 * parsers in its scope, so it lives in its own encapsulated plugin beside the REST routes.
 */
export const rpcPlugin: FastifyPluginAsync<RpcOptions> = async (app: FastifyInstance, opts) => {
  await app.register(fastifyConnectPlugin, {
    routes: routes(opts.services),
    interceptors: [...(opts.interceptors ?? []), errorInterceptor(opts.logger), authInterceptor(opts.guard)],
    readMaxBytes: opts.readMaxBytes,
    writeMaxBytes: opts.writeMaxBytes,
    maxTimeoutMs: opts.maxTimeoutMs,
    shutdownSignal: opts.shutdownSignal,
    grpc: true,
    grpcWeb: true,
    connect: true,
  });
};
