import { randomUUID } from "node:crypto";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { checkUnauthenticatedStart, createGuard } from "./auth/guard.js";
import type { AppContext } from "./context.js";
import { Listener } from "./transport/listener.js";
import { docsPlugin } from "./transport/openapi/plugin.js";
import { registerOps } from "./transport/ops/index.js";
import { registerStatus } from "./transport/ops/status.js";
import { legacyErrorHandler, legacyNotFoundHandler } from "./transport/rest/errors.js";
import { restPlugin } from "./transport/rest/plugin.js";
import { rpcPlugin } from "./transport/rpc/plugin.js";
import { boundServices } from "./transport/services/index.js";

export interface App {
  fastify: FastifyInstance;
  listener: Listener;
  /** Stops accepting, drains in-flight requests, closes Fastify. Idempotent. */
  close(): Promise<void>;
}

export interface BuildOptions {
  tls?: { cert: string | Buffer; key: string | Buffer };
}

/**
 * One Fastify instance serving gRPC, gRPC-Web and Connect (rpc plugin) and the legacy REST
 * API (rest plugin) on one listener. Nothing here opens files or the chain: that is main's.
 */
export async function buildApp(ctx: AppContext, opts: BuildOptions = {}): Promise<App> {
  const http = ctx.config.httpServer;
  checkUnauthenticatedStart(ctx.config, ctx.logger, ctx.auth?.verifier);
  const guard = createGuard(ctx.auth?.verifier);
  let listener!: Listener;
  const shutdown = new AbortController();
  const fastify = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    bodyLimit: http.bodyLimit,
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    serverFactory: (handler) => {
      listener = new Listener(handler as never, {
        host: http.host,
        port: http.port,
        tls: opts.tls,
        requestTimeoutMs: http.requestTimeoutMs,
      });
      return listener.h1;
    },
  });
  fastify.setErrorHandler(legacyErrorHandler);
  fastify.setNotFoundHandler(legacyNotFoundHandler);

  const services = boundServices(ctx);
  const ops = registerOps(fastify, ctx, services);
  registerStatus(fastify, ctx);
  await fastify.register(rpcPlugin, {
    services,
    logger: ctx.logger,
    readMaxBytes: http.bodyLimit,
    writeMaxBytes: 16 * http.bodyLimit,
    maxTimeoutMs: http.maxRpcTimeoutMs,
    shutdownSignal: shutdown.signal,
    guard,
    interceptors: [ops.rpcInterceptor],
  });
  await fastify.register(restPlugin, { baseURL: ctx.config.baseURL, services, guard });
  await fastify.register(docsPlugin, { baseURL: ctx.config.baseURL, services: services.map((s) => s.service), authenticated: !!ctx.auth });
  await fastify.ready();

  let closing: Promise<void> | undefined;
  return {
    fastify,
    listener,
    close() {
      closing ??= (async () => {
        shutdown.abort();
        await listener.close(http.shutdownTimeoutMs);
        await fastify.close();
      })();
      return closing;
    },
  };
}
