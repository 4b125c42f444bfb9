import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import { NotFoundError } from "../../domain/errors.js";
import { OPS_ROUTE } from "../ops/index.js";
import { openApiDocument } from "./spec.js";

export interface DocsOptions {
  baseURL: string;
  services: DescService[];
  authenticated: boolean;
}

/** Swagger UI's files, served from node_modules: the page fetches nothing from elsewhere. */
const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
};
const assetDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const assetCache = new Map<string, Buffer>();

function asset(name: string): Buffer {
  let data = assetCache.get(name);
  if (!data) {
    data = readFileSync(join(assetDir, name));
    assetCache.set(name, data);
  }
  return data;
}

function page(base: string): string {
  const config = {
    url: `${base}/openapi.json`,
    dom_id: "#docs",
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 1,
    displayRequestDuration: true,
    // Swagger UI would otherwise send the document to validator.swagger.io.
    validatorUrl: null,
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SCR gateway REST API</title>
<link rel="stylesheet" href="${base}/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="${base}/docs/favicon-32x32.png">
</head>
<body>
<div id="docs"></div>
<script src="${base}/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle(${JSON.stringify(config)});</script>
</body>
</html>
`;
}

/**
 * `{baseURL}/openapi.json`, generated once at start from the services' REST rules, and a
 * browsable page at `{baseURL}/docs` (Swagger UI). They describe the contract, not data, and
 * need no token.
 */
export const docsPlugin: FastifyPluginAsync<DocsOptions> = async (app: FastifyInstance, opts) => {
  const base = opts.baseURL === "/" ? "" : opts.baseURL;
  const document = JSON.stringify(openApiDocument(opts.services, { baseURL: opts.baseURL, authenticated: opts.authenticated }));
  const html = page(base);
  app.get(`${base}/openapi.json`, OPS_ROUTE, async (_req, reply) => reply.type("application/json; charset=utf-8").send(document));
  app.get(`${base}/docs`, OPS_ROUTE, async (_req, reply) => reply.type("text/html; charset=utf-8").send(html));
  app.get<{ Params: { asset: string } }>(`${base}/docs/:asset`, OPS_ROUTE, async (req, reply) => {
    const type = Object.hasOwn(ASSETS, req.params.asset) ? ASSETS[req.params.asset] : undefined;
    if (!type) throw new NotFoundError(`no document ${req.params.asset}`);
    return reply.type(type).header("cache-control", "public, max-age=3600").send(asset(req.params.asset));
  });
};
