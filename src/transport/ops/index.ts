import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AppContext } from "../../context.js";
import { requestLogContext } from "../../logging/logger.js";
import { tapCallEnd } from "../rpc/stream-tap.js";
import type { BoundService } from "../services/index.js";
import { readiness } from "./health.js";
import { createMetrics, protocolOf, restRouteLabel } from "./metrics.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** An operability route (health, metrics, docs): left out of the request metrics. */
    ops?: boolean;
  }
}

/** Route options of an operability route. */
export const OPS_ROUTE = { config: { ops: true } } as const;

type RequestState = { reqId: string; rpcCode?: string };

export interface Ops {
  /** The outermost RPC interceptor: records each call's final code for the metrics. */
  rpcInterceptor: Interceptor;
}

/**
 * Operability on the API's listener, outside the auth guard and outside baseURL:
 * - every request gets an `x-request-id` response header, and every line logged while it is
 *   handled carries that `reqId` (see `requestLogContext`);
 * - `/healthz` (the process is up), `/readyz` (database, chain node, indexer), `/metrics`
 *   (Prometheus text).
 * Call before the API's plugins are registered, so their routes inherit the hooks.
 */
export function registerOps(fastify: FastifyInstance, ctx: AppContext, services: BoundService[]): Ops {
  const metrics = createMetrics(ctx);
  const rpcPaths = new Set(services.flatMap(({ service }) => service.methods.map((m) => `/${service.typeName}/${m.name}`)));
  const isRpcPath = (url: string) => rpcPaths.has(url) || url.startsWith("/grpc.reflection.");
  const states = new WeakMap<FastifyRequest, RequestState>();

  fastify.addHook("onRequest", (req, reply, done) => {
    reply.header("x-request-id", req.id);
    const state: RequestState = { reqId: req.id };
    states.set(req, state);
    requestLogContext.run(state, done);
  });
  // A parsed body resumes the request from a stream event, outside the context entered above.
  fastify.addHook("preHandler", (req, _reply, done) => {
    const state = states.get(req);
    if (state) requestLogContext.run(state, done);
    else done();
  });
  fastify.addHook("onResponse", (req, reply, done) => {
    const url = req.routeOptions.url;
    if (!req.routeOptions.config.ops) {
      const rpc = url !== undefined && isRpcPath(url);
      const protocol = protocolOf(req.headers["content-type"], rpc);
      const route = url === undefined ? "unmatched" : rpc ? url : restRouteLabel(url, ctx.config.baseURL);
      const status = (rpc && states.get(req)?.rpcCode) || String(reply.statusCode);
      metrics.observe({ route, protocol, status }, reply.elapsedTime / 1000);
    }
    done();
  });

  fastify.get("/healthz", OPS_ROUTE, async () => ({ status: "ok" }));
  fastify.get("/readyz", OPS_ROUTE, async (_req, reply) => {
    const result = await readiness(ctx);
    return reply.code(result.status === "ready" ? 200 : 503).send(result);
  });
  fastify.get("/metrics", OPS_ROUTE, async (_req, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  const record = (code: string) => {
    const state = requestLogContext.getStore() as RequestState | undefined;
    if (state) state.rpcCode = code;
  };
  const failed = (err: unknown) => codeToString(ConnectError.from(err).code);
  const rpcInterceptor: Interceptor = (next) => async (req) => {
    try {
      return tapCallEnd(await next(req), {
        ok: () => record("ok"),
        error: (err) => {
          record(failed(err));
          return err;
        },
      });
    } catch (err) {
      record(failed(err));
      throw err;
    }
  };
  return { rpcInterceptor };
}
