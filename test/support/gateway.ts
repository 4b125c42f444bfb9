import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { buildApp, type App } from "../../src/app.js";
import { verifierFromConfig } from "../../src/auth/verifier.js";
import { StaticIdentity } from "../../src/adapters/identity/static-identity.js";
import { SqliteStore } from "../../src/adapters/store/sqlite/store.js";
import { parseConfig, type ConfigInput } from "../../src/config/load.js";
import type { AppContext } from "../../src/context.js";
import type { GreenLights, LightName, Organization, ReleaseData, ReleaseRecord } from "../../src/domain/releases/model.js";
import { applyLights, initialGreenLights } from "../../src/domain/releases/greenlights.js";
import { ReleaseQueries } from "../../src/domain/releases/queries.js";
import specRelease from "../fixtures/spec-release.json" with { type: "json" };

export interface TestGateway {
  app: App;
  ctx: AppContext;
  store: SqliteStore;
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  rest: string;
  stop(): Promise<void>;
}

/** A gateway on a random loopback port over a fresh SQLite file; no chain. */
export async function startTestGateway(
  self: Organization,
  config: ConfigInput = {},
  tls?: { cert: string; key: string },
  /** Files written into the gateway's folder before start, e.g. the `authentication` key. */
  files: Record<string, string | Buffer> = {},
): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), "scr-test-"));
  const cfg = {
    ...parseConfig({ ...config, dataDir: dir, httpServer: { port: 0, ...config.httpServer } }),
    baseDir: dir,
  };
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  const store = SqliteStore.open(join(dir, cfg.sqliteDB));
  const cleanup = () => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  };
  let verifier;
  try {
    verifier = verifierFromConfig(cfg, store.usedTokens);
  } catch (err) {
    cleanup();
    throw err;
  }
  const ctx: AppContext = {
    config: cfg,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    store,
    identity: new StaticIdentity(self),
    releases: new ReleaseQueries(store),
    auth: verifier ? { verifier } : undefined,
  };
  let app: App;
  try {
    app = await buildApp(ctx, { tls });
  } catch (err) {
    cleanup();
    throw err;
  }
  const { port } = await app.listener.listen();
  const url = `${tls ? "https" : "http"}://127.0.0.1:${port}`;
  return {
    app,
    ctx,
    store,
    url,
    rest: url + cfg.baseURL,
    async stop() {
      await app.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const SPEC_CARRIER: Organization = {
  address: "0xa2039dC115B5904c224FEc057684fcCcc88E2f05",
  name: "Demo Carrier NV",
  vat: "BE0123456789",
};

export const SPEC_SELF: Organization = {
  address: "0x79F98099b2Bf4e5a47244E0cDba500F68b567ce5",
  name: "Test Entity 1",
  vat: "BE0999999999",
};

/** The specification's example release data, with the two LoCodes its table adds. */
export function specReleaseData(bl = specRelease.release_data.billOfLading.blNumber): ReleaseData {
  const c = specRelease.release_data.container;
  return {
    billOfLading: { ...specRelease.release_data.billOfLading, blNumber: bl },
    container: {
      ...c,
      pickupLoCode: "BEANR",
      turnInLoCode: "BEANR",
      validFrom: new Date(c.validFrom),
      validUntil: new Date(c.validUntil),
    },
  };
}

/** The green lights of the specification's example, rebuilt from their values by the rules. */
export function specGreenLights(): GreenLights {
  const events = specRelease.greenLights.events as Record<LightName, { value: string; updatedAt: string }>;
  return applyLights(initialGreenLights(), events, specRelease.greenLights.source);
}

/** The specification's example release as a cache record, owned by SPEC_SELF. */
export function specReleaseRecord(overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  const s = specRelease;
  return {
    address: s.address,
    creator: s.creator,
    owners: [s.creator, s.owner],
    terminal: null,
    data: specReleaseData(),
    encryptedPin: s.encryptedPin,
    deleted: s.deleted,
    blocked: s.blocked,
    pinRetrieved: s.pinRetrieved,
    gateOut: null,
    createdAt: new Date(s.createdAt),
    updatedAt: new Date(s.updatedAt),
    version: s.version,
    greenLights: s.greenLights as ReleaseRecord["greenLights"],
    wrappedKey: "",
    assignment: null,
    ...overrides,
  };
}

export { specRelease };
