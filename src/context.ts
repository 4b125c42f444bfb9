import type { Logger } from "pino";
import type { Config } from "./config/schema.js";
import type { ReleaseQueries } from "./domain/releases/queries.js";
import type { Identity } from "./ports/identity.js";
import type { Store } from "./ports/store.js";

/** Everything the transports need, built once by main.ts (or by a test with its own parts). */
export interface AppContext {
  config: Config & { baseDir: string };
  logger: Logger;
  store: Store;
  identity: Identity;
  releases: ReleaseQueries;
}
