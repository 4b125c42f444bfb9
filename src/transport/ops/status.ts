/**
 * GET /status: what `scr status` shows, as JSON, at the root of the listener beside /readyz.
 *
 * Who may ask: a caller on the gateway's own host (a loopback source address, or the address
 * it connected to, with no proxy header: a reverse proxy on the same host forwards strangers),
 * without a token; anyone else only with a token (or API key) holding the admin role, and
 * nobody else when no authentication is configured. The answer names the node, the wallet and
 * failing callbacks: operators' information, never the public's.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { readStoreStatus, type StoreStatus } from "../../adapters/store/sqlite/status-reader.js";
import { LOOPBACK } from "../../auth/guard.js";
import { resolveFrom } from "../../config/load.js";
import { redactUrl } from "../../config/redact.js";
import type { AppContext } from "../../context.js";
import type { IndexerProgress } from "../../domain/indexer/indexer.js";
import { VERSION } from "../../version.js";
import { CHAIN_CHECK_TIMEOUT_MS, withTimeout } from "./health.js";
import { OPS_ROUTE } from "./index.js";

/** Failed operations younger than this count as recent, unless ?failedWithin=<seconds> says. */
export const DEFAULT_FAILED_WITHIN_SECONDS = 3600;

export interface GatewayStatus {
  version: string;
  startedAt: string;
  uptimeSeconds: number;
  chain: {
    rpcUrl: string | null;
    local: boolean | null;
    chainId: string | null;
    head: number | null;
    reachable: boolean;
    error?: string;
  };
  indexer: {
    indexedThrough: number | null;
    head: number | null;
    safeHead: number | null;
    confirmations: number | null;
    lag: number | null;
    catchingUp: boolean;
    progress: IndexerProgress | null;
    lastError: string | null;
  };
  operations: StoreStatus["operations"] | null;
  outbox: StoreStatus["outbox"];
  wallet: { address: string | null };
  database: { file: string; bytes: number | null; error?: string };
}

/** The database file of a configuration. */
export function databaseFile(config: AppContext["config"]): string {
  return resolveFrom(resolveFrom(config.baseDir, config.dataDir), config.sqliteDB);
}

/** Everything GET /status answers. */
export async function gatewayStatus(ctx: AppContext, startedAt: number, failedWithinSeconds: number): Promise<GatewayStatus> {
  const file = databaseFile(ctx.config);
  let store: StoreStatus | undefined;
  let storeError: string | undefined;
  try {
    store = readStoreStatus(file, { failedWithinSeconds });
  } catch (err) {
    ctx.logger.warn({ err }, "status: the database could not be read");
    storeError = (err as Error).message;
  }
  const health = ctx.health;
  const indexer = health?.indexer();
  let head: number | null = null;
  let chainError: string | undefined;
  if (health) {
    try {
      head = await withTimeout(health.chainHead(), CHAIN_CHECK_TIMEOUT_MS);
    } catch (err) {
      ctx.logger.warn({ err }, "status: the chain node does not answer");
      chainError = `the chain node does not answer within ${CHAIN_CHECK_TIMEOUT_MS} ms`;
    }
  } else {
    chainError = "this gateway runs without a chain";
  }
  const now = Date.now();
  return {
    version: VERSION,
    startedAt: new Date(startedAt).toISOString(),
    uptimeSeconds: Math.floor((now - startedAt) / 1000),
    chain: {
      rpcUrl: health?.rpcUrl ? redactUrl(health.rpcUrl) : null,
      local: health?.local ?? null,
      chainId: store?.cursor?.chainId ?? null,
      head,
      reachable: chainError === undefined,
      ...(chainError ? { error: chainError } : {}),
    },
    indexer: {
      indexedThrough: indexer?.indexedThrough ?? store?.cursor?.indexedThrough ?? null,
      head: indexer?.head ?? null,
      safeHead: indexer?.safeHead ?? null,
      confirmations: indexer?.confirmations ?? null,
      lag: indexer?.lag ?? null,
      catchingUp: indexer?.catchingUp ?? false,
      progress: indexer?.progress ?? null,
      lastError: indexer?.lastError ?? null,
    },
    operations: store?.operations ?? null,
    outbox: store?.outbox ?? { available: false, reason: storeError ?? "no database" },
    wallet: { address: ctx.chain?.wallet.address ?? null },
    database: store ? { file, bytes: store.bytes } : { file, bytes: null, error: storeError ?? "no database" },
  };
}

const PROXY_HEADERS = ["forwarded", "x-forwarded-for", "x-real-ip"];

/** The caller is on this host: loopback, or the very address it connected to; not proxied. */
export function sameHost(req: Pick<FastifyRequest, "headers" | "socket">): boolean {
  if (PROXY_HEADERS.some((h) => req.headers[h] !== undefined)) return false;
  const remote = req.socket.remoteAddress;
  if (!remote) return false;
  return LOOPBACK.test(remote) || remote === req.socket.localAddress;
}

/** Refuses a caller that is neither on this host nor an admin; true when it may go on. */
async function allowed(ctx: AppContext, req: FastifyRequest, reply: FastifyReply): Promise<boolean> {
  if (sameHost(req)) return true;
  const verifier = ctx.auth?.verifier;
  const refuse = (status: number, error: string) => {
    if (status === 401) reply.header("www-authenticate", "Bearer");
    void reply.code(status).send({ error });
    return false;
  };
  if (!verifier) return refuse(403, "GET /status answers only callers on the gateway's host");
  const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? "");
  const apiKey = req.headers["x-api-key"];
  if (!bearer && typeof apiKey !== "string") return refuse(401, "GET /status from another host needs a token with the admin role");
  try {
    const principal = bearer ? await verifier.verify(bearer[1]!) : await verifier.verifyApiKey(String(apiKey).trim());
    return principal.roles.has("admin") ? true : refuse(403, "this client lacks the admin role");
  } catch (err) {
    return refuse(401, (err as Error).message);
  }
}

/** Registers GET /status (call next to registerOps, before the API's plugins). */
export function registerStatus(fastify: FastifyInstance, ctx: AppContext): void {
  const startedAt = Date.now();
  fastify.get<{ Querystring: { failedWithin?: string } }>("/status", OPS_ROUTE, async (req, reply) => {
    if (!(await allowed(ctx, req, reply))) return reply;
    const within = Number(req.query.failedWithin ?? DEFAULT_FAILED_WITHIN_SECONDS);
    if (!Number.isInteger(within) || within < 0) return reply.code(400).send({ error: "failedWithin is a whole number of seconds" });
    return reply.header("cache-control", "no-store").send(await gatewayStatus(ctx, startedAt, within));
  });
}
