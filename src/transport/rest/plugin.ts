import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import type { Guard } from "../../auth/guard.js";
import { InvalidArgumentError } from "../../domain/errors.js";
import type { BoundService } from "../services/index.js";
import { restRoutes } from "./http-rules.js";
import { restHandler } from "./transcoder.js";

export interface RestOptions {
  baseURL: string;
  services: BoundService[];
  guard: Guard;
}

/**
 * The legacy REST facade: one route per `google.api.http` rule, under the configured
 * baseURL. Only unary methods are transcoded; WatchEvents streams over gRPC and Connect.
 */
export const restPlugin: FastifyPluginAsync<RestOptions> = async (app: FastifyInstance, opts) => {
  // Legacy clients send PUT /revoke with a JSON content type and no body: that is no body,
  // not a malformed one.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(/^application\/([\w.+-]+\+)?json$/, { parseAs: "string" }, (_req, text, done) => {
    const body = String(text);
    if (body.trim() === "") return done(null, undefined);
    try {
      done(null, JSON.parse(body));
    } catch (err) {
      // V8 quotes the text around the error, which may be a pincode or a secret: it would reach
      // the log with the 400. The position is enough.
      const reason = (err as Error).message.replace(/, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, "");
      done(new InvalidArgumentError("body", `is not valid JSON (${reason})`), undefined);
    }
  });

  const base = opts.baseURL === "/" ? "" : opts.baseURL;
  for (const bound of opts.services) {
    for (const route of restRoutes([bound.service])) {
      if (route.method.methodKind !== "unary") continue;
      app.route({ method: route.httpMethod, url: base + route.fastifyPath, ...restHandler(route, bound, opts.guard) });
    }
  }
};
