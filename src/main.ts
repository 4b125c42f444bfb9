import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { buildApp, type App } from "./app.js";
import { resolveFrom, type Config } from "./config/load.js";
import type { AppContext } from "./context.js";
import { ReleaseQueries } from "./domain/releases/queries.js";
import { StaticIdentity } from "./adapters/identity/static-identity.js";
import { SqliteStore } from "./adapters/store/sqlite/store.js";
import { createLogger } from "./logging/logger.js";

export interface Gateway {
  app: App;
  ctx: AppContext;
  url: string;
  stop(): Promise<void>;
}

export function dataPath(config: Config & { baseDir: string }, file: string): string {
  return resolveFrom(resolveFrom(config.baseDir, config.dataDir), file);
}

/** Builds every part from the configuration and starts listening. */
export async function startGateway(config: Config & { baseDir: string }, logger?: Logger): Promise<Gateway> {
  const log = logger ?? createLogger(config);
  const store = SqliteStore.open(dataPath(config, config.sqliteDB));
  const ctx: AppContext = {
    config,
    logger: log,
    store,
    identity: new StaticIdentity({ missing: "this gateway has no wallet yet: run `scr wallet init`" }),
    releases: new ReleaseQueries(store),
  };
  const ssl = config.httpServer.ssl;
  if (config.protocol === "https" && !ssl) {
    store.close();
    throw new Error('"protocol": "https" needs httpServer.ssl.serverCert and httpServer.ssl.serverKey');
  }
  let app: App;
  try {
    app = await buildApp(ctx, {
      tls:
        config.protocol === "https" && ssl
          ? {
              cert: readFileSync(resolveFrom(config.baseDir, ssl.serverCert)),
              key: readFileSync(resolveFrom(config.baseDir, ssl.serverKey)),
            }
          : undefined,
    });
    const address = await app.listener.listen();
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    const url = `${config.protocol}://${host}:${address.port}`;
    log.info({ url, baseURL: config.baseURL, data: join(config.dataDir) }, "scr-gateway listening");
    return {
      app,
      ctx,
      url,
      async stop() {
        await app.close();
        store.close();
      },
    };
  } catch (err) {
    store.close();
    throw err;
  }
}
