import type { AppContext } from "../../context.js";

/** The indexer may trail the chain's safe head by this many blocks and still be ready. */
export const MAX_READY_INDEXER_LAG = 50;
/** How long /readyz waits for the chain node. */
export const CHAIN_CHECK_TIMEOUT_MS = 2000;

export interface Check {
  ok: boolean;
  /** Why it failed, in words safe to show to an unauthenticated caller. */
  error?: string;
  [detail: string]: unknown;
}

export interface Readiness {
  status: "ready" | "unavailable";
  /** The names of the failed checks. */
  failed: string[];
  checks: Record<string, Check>;
}

/**
 * What /readyz answers: the database answers a query; with a chain, the node answers within
 * CHAIN_CHECK_TIMEOUT_MS and the indexer is at most MAX_READY_INDEXER_LAG blocks behind.
 * Causes are logged, not returned: the endpoint needs no token.
 */
export async function readiness(ctx: AppContext): Promise<Readiness> {
  const checks: Record<string, Check> = {};
  try {
    ctx.store.operations.countInState("pending");
    checks.database = { ok: true };
  } catch (err) {
    ctx.logger.warn({ err }, "readiness: the database does not answer");
    checks.database = { ok: false, error: "the database does not answer" };
  }
  if (ctx.chain && ctx.health) {
    const health = ctx.health;
    checks.chain = await chainCheck(ctx, () => health.chainHead());
    const { lag } = health.indexer();
    checks.indexer =
      lag === null
        ? { ok: false, lag, error: "the indexer has not read the chain's head yet" }
        : lag > MAX_READY_INDEXER_LAG
          ? { ok: false, lag, error: `the indexer is ${lag} blocks behind (at most ${MAX_READY_INDEXER_LAG})` }
          : { ok: true, lag };
  }
  const failed = Object.keys(checks).filter((name) => !checks[name]!.ok);
  return { status: failed.length === 0 ? "ready" : "unavailable", failed, checks };
}

async function chainCheck(ctx: AppContext, head: () => Promise<number>): Promise<Check> {
  try {
    return { ok: true, head: await withTimeout(head(), CHAIN_CHECK_TIMEOUT_MS) };
  } catch (err) {
    ctx.logger.warn({ err }, "readiness: the chain node does not answer");
    return { ok: false, error: `the chain node does not answer within ${CHAIN_CHECK_TIMEOUT_MS} ms` };
  }
}

/** `p`, or a rejection once `ms` milliseconds have passed without it settling. */
export async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
