/**
 * `scr status`, the monitoring tool: asks the running gateway (GET /status on its configured
 * address), or, when it does not answer, reads the database read-only and the configured node
 * itself. Prints text or --json; exits 1 when something is wrong.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { TLSSocket } from "node:tls";
import { parseArgs } from "node:util";
import { readStoreStatus, type StoreStatus } from "../adapters/store/sqlite/status-reader.js";
import { readPublicKeystore } from "../adapters/wallet/keystore.js";
import { walletPaths } from "../adapters/wallet/paths.js";
import { ConfigError, loadConfig, resolveFrom, type LoadedConfig } from "../config/load.js";
import { redactUrl } from "../config/redact.js";
import { MAX_READY_INDEXER_LAG } from "../transport/ops/health.js";
import { DEFAULT_FAILED_WITHIN_SECONDS, databaseFile, type GatewayStatus } from "../transport/ops/status.js";
import { VERSION } from "../version.js";
import { rpcCall } from "./rpc.js";
import type { CommandIo } from "./wallet.js";

export const STATUS_USAGE = `usage: scr status [--config <file>] [--json] [options]

Checks the gateway: version and uptime, the chain node and its head block, the indexer's
position, lag and catch-up, pending and failed operations, the callback outbox, the wallet
address and the database size. It asks the running gateway (GET /status at the configured
address); when the gateway does not answer, it reads the database and the node itself and
reports "gateway: down". Exits 0 when healthy, 1 when not, 2 on a bad flag or configuration.

options:
  --config <file>          the gateway's configuration.json (the embedded defaults without)
  --json                   one JSON object instead of text
  --url <url>              the gateway's address, when not the configured one
  --max-lag <blocks>       unhealthy when the indexer is further behind [${MAX_READY_INDEXER_LAG}]
  --failed-within <s>      unhealthy when an operation failed this recently [${DEFAULT_FAILED_WITHIN_SECONDS}]
  --timeout <ms>           how long to wait for the gateway and the node [5000]

Unhealthy: the gateway does not answer; the chain node does not answer; the indexer lags more
than --max-lag blocks; an operation failed within --failed-within seconds; the database cannot
be read. Failing callback subscriptions are reported as warnings.

GET /status answers a caller on the gateway's own host without a token (a loopback address,
or the address it connected to, and no proxy header such as X-Forwarded-For); any other
caller needs a token or API key with the admin role, and is refused when no authentication
is configured. Remote monitoring without a token uses /healthz, /readyz and /metrics.
`;

class UsageError extends Error {}

type GatewayState = "up" | "down" | "refused";

/** What `scr status --json` prints. */
export interface StatusReport extends Omit<GatewayStatus, "startedAt" | "uptimeSeconds"> {
  healthy: boolean;
  problems: string[];
  warnings: string[];
  gateway: { state: GatewayState; url: string; error?: string };
  startedAt: string | null;
  uptimeSeconds: number | null;
}

/** `scr status`; resolves to the exit code. */
export async function statusCommand(argv: string[], io: CommandIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: "string", short: "c" },
        json: { type: "boolean", default: false },
        url: { type: "string" },
        "max-lag": { type: "string" },
        "failed-within": { type: "string" },
        timeout: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (err) {
    io.stderr.write(`scr status: ${(err as Error).message}\n\n${STATUS_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(STATUS_USAGE);
    return 0;
  }
  let config: LoadedConfig;
  let opts: { maxLag: number; failedWithin: number; timeoutMs: number; url: URL };
  try {
    opts = {
      maxLag: count("--max-lag", values["max-lag"], MAX_READY_INDEXER_LAG),
      failedWithin: count("--failed-within", values["failed-within"], DEFAULT_FAILED_WITHIN_SECONDS),
      timeoutMs: count("--timeout", values.timeout, 5000),
      url: new URL("http://127.0.0.1"),
    };
    config = loadConfig(values.config);
    opts.url = values.url ? parseUrl(values.url) : gatewayUrl(config);
  } catch (err) {
    if (!(err instanceof UsageError) && !(err instanceof ConfigError)) throw err;
    io.stderr.write(`scr status: ${err.message}\n`);
    return 2;
  }

  const report = await statusReport(config, opts);
  io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : text(report));
  return report.healthy ? 0 : 1;
}

function count(flag: string, text: string | undefined, def: number): number {
  if (text === undefined) return def;
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} is a whole number, not "${text}"`);
  return Number(text);
}

function parseUrl(text: string): URL {
  try {
    const url = new URL(text);
    if (url.protocol === "http:" || url.protocol === "https:") return url;
  } catch {
    // below
  }
  throw new UsageError(`--url: "${text}" is not an http:// or https:// URL`);
}

/** The configured listener, reached from this host (a wildcard address through loopback). */
export function gatewayUrl(config: LoadedConfig): URL {
  const host = config.httpServer.host;
  const reach = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return new URL(`${config.protocol}://${reach.includes(":") ? `[${reach}]` : reach}:${config.httpServer.port}`);
}

// ------------------------------------------------------------------------------- gathering

async function statusReport(config: LoadedConfig, opts: { maxLag: number; failedWithin: number; timeoutMs: number; url: URL }): Promise<StatusReport> {
  const url = new URL(`/status?failedWithin=${opts.failedWithin}`, opts.url);
  let gateway: StatusReport["gateway"];
  let status: Omit<StatusReport, "healthy" | "problems" | "warnings" | "gateway">;
  try {
    const res = await getJson(url, opts.timeoutMs, pinnedCertificate(config, opts.url));
    if (res.status === 200 && isGatewayStatus(res.body)) {
      gateway = { state: "up", url: opts.url.origin };
      status = res.body;
    } else {
      const why = (res.body as { error?: unknown } | undefined)?.error;
      gateway = { state: "refused", url: opts.url.origin, error: `GET /status answered ${res.status}${typeof why === "string" ? `: ${why}` : ""}` };
      status = await localStatus(config, opts);
    }
  } catch (err) {
    gateway = { state: "down", url: opts.url.origin, error: (err as Error).message };
    status = await localStatus(config, opts);
  }
  const { problems, warnings } = verdict(gateway, status, opts);
  return { healthy: problems.length === 0, problems, warnings, gateway, ...status };
}

function isGatewayStatus(body: unknown): body is GatewayStatus {
  const b = body as Partial<GatewayStatus> | undefined;
  return typeof b === "object" && b !== null && typeof b.version === "string" && typeof b.chain === "object" && typeof b.indexer === "object";
}

/** With https and a configured certificate, the server must present exactly that one. */
function pinnedCertificate(config: LoadedConfig, url: URL): string | undefined {
  const ssl = config.httpServer.ssl;
  if (url.protocol !== "https:" || !ssl) return undefined;
  try {
    return new X509Certificate(readFileSync(resolveFrom(config.baseDir, ssl.serverCert))).fingerprint256;
  } catch {
    return undefined;
  }
}

function getJson(url: URL, timeoutMs: number, fingerprint: string | undefined): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage) => {
      if (fingerprint) {
        const presented = (res.socket as TLSSocket).getPeerCertificate?.()?.fingerprint256;
        if (presented !== fingerprint) {
          res.destroy();
          reject(new Error(`${url.origin} presented another certificate than httpServer.ssl.serverCert`));
          return;
        }
      }
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on("error", reject);
    };
    // agent: false: a fresh connection, never one kept alive from before the gateway stopped.
    const options = { method: "GET", timeout: timeoutMs, agent: false, headers: { accept: "application/json" } };
    const req =
      url.protocol === "https:"
        ? // The certificate is checked above against the configured one (it is usually not issued for 127.0.0.1).
          httpsRequest(url, { ...options, rejectUnauthorized: !fingerprint }, onResponse)
        : httpRequest(url, options, onResponse);
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (err: NodeJS.ErrnoException) => reject(new Error(`${url.origin} does not answer: ${err.code ?? err.message}`)));
    req.end();
  });
}

/** What can be known without the gateway: the database, the wallet file, the node. */
async function localStatus(config: LoadedConfig, opts: { failedWithin: number; timeoutMs: number }): Promise<Omit<StatusReport, "healthy" | "problems" | "warnings" | "gateway">> {
  const file = databaseFile(config);
  let store: StoreStatus | undefined;
  let storeError: string | undefined;
  try {
    store = readStoreStatus(file, { failedWithinSeconds: opts.failedWithin });
  } catch (err) {
    storeError = (err as Error).message;
  }
  let address: string | null = null;
  try {
    address = readPublicKeystore(walletPaths(config).keystore).address;
  } catch {
    // reported as null
  }

  const rpcUrl = config.chain.rpcUrl;
  let head: number | null = null;
  let chainId = store?.cursor?.chainId ?? null;
  let chainError: string | undefined;
  if (rpcUrl) {
    try {
      [chainId, head] = await Promise.all([
        rpcCall<string>(rpcUrl, "eth_chainId", [], opts.timeoutMs).then((h) => BigInt(h).toString()),
        rpcCall<string>(rpcUrl, "eth_blockNumber", [], opts.timeoutMs).then((h) => Number(BigInt(h))),
      ]);
    } catch (err) {
      chainError = (err as Error).message;
    }
  } else {
    chainError = "the embedded local chain runs inside the gateway, and stops with it";
  }
  const confirmations = config.chain.confirmations;
  const indexedThrough = store?.cursor?.indexedThrough ?? null;
  const safeHead = head === null ? null : head - confirmations;
  return {
    version: VERSION,
    startedAt: null,
    uptimeSeconds: null,
    chain: {
      rpcUrl: rpcUrl ? redactUrl(rpcUrl) : null,
      local: !rpcUrl,
      chainId,
      head,
      reachable: chainError === undefined,
      ...(chainError ? { error: chainError } : {}),
    },
    indexer: {
      indexedThrough,
      head,
      safeHead,
      confirmations,
      lag: safeHead === null || indexedThrough === null ? null : Math.max(0, safeHead - indexedThrough),
      catchingUp: false,
      progress: null,
      lastError: null,
    },
    operations: store?.operations ?? null,
    outbox: store?.outbox ?? { available: false, reason: storeError ?? "no database" },
    wallet: { address },
    database: store ? { file, bytes: store.bytes } : { file, bytes: null, error: storeError ?? "no database" },
  };
}

function verdict(
  gateway: StatusReport["gateway"],
  s: Omit<StatusReport, "healthy" | "problems" | "warnings" | "gateway">,
  opts: { maxLag: number; failedWithin: number },
): { problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  if (gateway.state === "down") problems.push(`gateway: down (${gateway.error})`);
  if (gateway.state === "refused") problems.push(`gateway: up, but ${gateway.error}`);
  if (!s.chain.reachable) problems.push(`chain: unreachable (${s.chain.error})`);
  if (s.indexer.lag !== null && s.indexer.lag > opts.maxLag) {
    problems.push(`indexer: ${s.indexer.lag} blocks behind the chain (at most ${opts.maxLag})`);
  }
  const failed = s.operations?.recentFailures.count ?? 0;
  if (failed > 0) problems.push(`operations: ${failed} failed in the last ${duration(opts.failedWithin)}`);
  if (s.database.error) problems.push(`database: ${s.database.error}`);
  if (s.indexer.lastError) warnings.push(`indexer: last error: ${s.indexer.lastError}`);
  if (s.outbox.available) {
    for (const sub of s.outbox.failingSubscriptions) warnings.push(`outbox: subscription ${sub.id} (${sub.callback}) ${subscriptionTrouble(sub)}`);
  }
  return { problems, warnings };
}

// ------------------------------------------------------------------------------- text

function subscriptionTrouble(sub: Extract<StatusReport["outbox"], { available: true }>["failingSubscriptions"][number]): string {
  const parts: string[] = [];
  if (!sub.enabled) parts.push(`disabled${sub.disabledReason ? ` (${sub.disabledReason})` : ""}`);
  if (sub.retrying) parts.push(`${sub.retrying} deliveries retrying`);
  if (sub.dead) parts.push(`${sub.dead} dead letters`);
  if (sub.lastStatus !== null || sub.lastError) parts.push(`last: ${sub.lastStatus === null ? "" : `HTTP ${sub.lastStatus} `}${sub.lastError ?? ""}`.trim());
  return parts.join(", ");
}

export function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function text(r: StatusReport): string {
  const lines: string[] = [];
  const row = (name: string, value: string) => lines.push(`${name.padEnd(11)}${value}`);
  const more = (value: string) => lines.push(`${"".padEnd(11)}${value}`);
  lines.push(`scr-gateway ${r.version}: ${r.healthy ? "healthy" : "UNHEALTHY"}`);
  row(
    "gateway",
    r.gateway.state === "up"
      ? `up at ${r.gateway.url}${r.uptimeSeconds === null ? "" : ` for ${duration(r.uptimeSeconds)} (since ${r.startedAt})`}`
      : r.gateway.state === "down"
        ? `down: ${r.gateway.error}`
        : `up, ${r.gateway.error}`,
  );
  const c = r.chain;
  const where = c.rpcUrl ?? (c.local ? "the embedded local chain" : "no chain");
  row("chain", `${where}${c.chainId ? `, chain ${c.chainId}` : ""}${c.reachable ? `, head block ${c.head}` : `: unreachable (${c.error})`}`);
  const i = r.indexer;
  if (i.indexedThrough === null) row("indexer", "has not started");
  else {
    row("indexer", `at block ${i.indexedThrough}${i.safeHead === null ? "" : ` of ${i.safeHead}`}${i.lag === null ? "" : `, ${i.lag} behind`}`);
    if (i.catchingUp && i.progress) more(`catching up: ${Math.floor(i.progress.percent)}% (block ${i.progress.to} of ${i.safeHead ?? i.progress.head})`);
    if (i.lastError) more(`last error: ${i.lastError}`);
  }
  const o = r.operations;
  if (!o) row("operations", "unknown");
  else {
    row("operations", `${o.byState.pending} pending, ${o.byState.submitted} submitted, ${o.byState.confirmed} confirmed, ${o.byState.failed} failed`);
    const f = o.recentFailures;
    if (f.count) more(`${f.count} failed in the last ${duration(f.withinSeconds)}:`);
    for (const op of f.latest) more(`  ${op.at} ${op.kind} ${op.id}: ${op.reason ?? "no reason recorded"}`);
  }
  const ob = r.outbox;
  if (!ob.available) row("outbox", `unavailable (${ob.reason})`);
  else {
    row("outbox", `${ob.backlog} waiting (${ob.retrying} retrying), ${ob.dead} dead letters${ob.oldestWaitingAt ? `, oldest from ${ob.oldestWaitingAt}` : ""}`);
    for (const sub of ob.failingSubscriptions) more(`failing: ${sub.id} ${sub.eventType} → ${sub.callback}: ${subscriptionTrouble(sub)}`);
  }
  row("wallet", r.wallet.address ?? "unknown (no wallet file)");
  row("database", r.database.bytes === null ? `${r.database.file}: ${r.database.error}` : `${r.database.file}, ${bytes(r.database.bytes)}`);
  if (r.problems.length) lines.push("problems:", ...r.problems.map((p) => `  - ${p}`));
  if (r.warnings.length) lines.push("warnings:", ...r.warnings.map((w) => `  - ${w}`));
  return `${lines.join("\n")}\n`;
}
