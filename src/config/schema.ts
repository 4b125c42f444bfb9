import { z } from "zod";

/** log4js-style level names the spec documents, mapped onto pino's. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "off"] as const;

const sizeWithUnit = z
  .union([z.number().int().positive(), z.string().regex(/^\d+(\.\d+)?\s*[KMG]?B?$/i, "a size such as 100M")])
  .describe("bytes, or a size such as 10K, 100M or 1G");

/** The `file` appender of the spec's log4js section. `type` and `layout` are accepted for
 * compatibility with existing files: output is always JSON lines, rotated by size. */
const fileAppender = z
  .object({
    type: z.enum(["file", "dateFile"]).optional(),
    filename: z.string().min(1),
    maxLogSize: sizeWithUnit.optional(),
    backups: z.number().int().min(0).max(1000).optional(),
    compress: z.boolean().optional(),
    layout: z.object({ type: z.string(), pattern: z.string().optional() }).strict().optional(),
  })
  .strict();

const ssl = z
  .object({
    serverCert: z.string().min(1),
    serverKey: z.string().min(1),
  })
  .strict();

const httpServer = z
  .object({
    host: z.string().min(1).default("127.0.0.1"),
    port: z.number().int().min(0).max(65535).default(5000),
    ssl: ssl.optional(),
    /** Largest accepted request body, in bytes, for REST and RPC alike. */
    bodyLimit: z.number().int().positive().default(1024 * 1024),
    /** A whole request must arrive within this many milliseconds. */
    requestTimeoutMs: z.number().int().positive().default(30_000),
    /** Upper bound on an RPC deadline a client may ask for, in milliseconds. */
    maxRpcTimeoutMs: z.number().int().positive().default(120_000),
    /** On SIGTERM, in-flight requests may finish for this long before connections are cut. */
    shutdownTimeoutMs: z.number().int().min(0).default(10_000),
  })
  .strict();

const chain = z
  .object({
    /** JSON-RPC URL of an EVM node (Besu, Quorum, Geth, anvil). Absent: a local anvil is
     * started in the data directory. */
    rpcUrl: z.string().url().optional(),
    chainId: z.number().int().positive().optional(),
    contracts: z
      .object({
        organizationRegistry: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
        connections: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
        releaseRegistry: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
      })
      .strict()
      .optional(),
    confirmations: z.number().int().min(0).max(1000).default(0),
    /** Fixed legacy gas price in wei; 0 for free-gas permissioned networks. Absent: the
     * node's fee market (EIP-1559 when the node has a base fee). */
    gasPrice: z.number().int().min(0).optional(),
    /** Seconds without a receipt before a transaction is re-sent with higher fees. */
    stuckAfterSeconds: z.number().int().positive().default(60),
    /** The embedded local chain (used when rpcUrl is absent). */
    anvil: z
      .object({
        /** Seconds between state snapshots to the data directory. */
        stateIntervalSeconds: z.number().int().positive().default(10),
        /** Seconds per block; absent: a block per transaction. */
        blockTime: z.number().int().positive().optional(),
        /** Start and seed the sandbox network beside this gateway: a demo carrier, "Test
         * entity 2" and a demo terminal, each a gateway on the next ports. */
        sandbox: z.boolean().default(true),
      })
      .strict()
      .default({ stateIntervalSeconds: 10, sandbox: true }),
  })
  .strict();

const wallet = z
  .object({
    /** Keystore file, relative to the data directory. */
    keystore: z.string().min(1).default("wallet.json"),
    /** Environment variable holding the keystore passphrase. */
    passphraseEnv: z.string().min(1).default("SCR_WALLET_PASSPHRASE"),
    /** File holding the keystore passphrase; used when the variable is unset. */
    passphraseFile: z.string().min(1).optional(),
  })
  .strict();

export const ROLE_NAMES = ["read", "write", "admin"] as const;
const roleList = z.array(z.enum(ROLE_NAMES)).min(1, "at least one role");
const clientName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "letters, digits, . _ - (at most 64)");

/** One internal system with its own JWT key; a token's `kid` header names it. */
const authClient = z
  .object({
    name: clientName,
    /** A `.pem` public key or a `.txt` shared secret, relative to the configuration file. */
    key: z.string().regex(/\.(pem|txt)$/i, "a .pem public key or a .txt secret"),
    roles: roleList,
  })
  .strict();

export const API_KEY_HASH = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

/** A system that cannot make JWTs sends `X-API-Key`; only its salted scrypt hash is kept here. */
const apiKey = z
  .object({
    name: clientName,
    hash: z.string().regex(API_KEY_HASH, 'scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>'),
    roles: roleList,
  })
  .strict();

const uniqueNames = (list: { name: string }[]) => new Set(list.map((c) => c.name)).size === list.length;

/** How callers' JWTs are checked (the `authentication` key says with what). */
const auth = z
  .object({
    /** A token whose lifetime (exp - iat, or exp - now without iat) exceeds this is refused. */
    maxTokenLifetimeSeconds: z.number().int().positive().max(86_400).default(300),
    /** Allowed clock skew for exp, nbf and iat, in seconds. */
    clockToleranceSeconds: z.number().int().min(0).max(300).default(5),
    /** Each token is accepted once (the spec: "the JWT should be used only once"). */
    replayProtection: z.boolean().default(true),
    /** How the `.txt` shared secret is written: as is, or base64 encoded. */
    secretEncoding: z.enum(["utf8", "base64"]).default("utf8"),
    /** Without `authentication`, serve on a non-loopback host anyway. */
    allowUnauthenticated: z.boolean().default(false),
    /** Internal systems, each with its own key, selected by the token's `kid`. */
    clients: z.array(authClient).refine(uniqueNames, "client names must be unique").default([]),
    /** API keys (`X-API-Key`), stored as salted scrypt hashes. */
    apiKeys: z.array(apiKey).refine(uniqueNames, "API key names must be unique").default([]),
  })
  .strict();

/** How callbacks are retried: exponential back-off with jitter, for at least a day by default. */
const retry = z
  .object({
    /** The delay after the first failed attempt. */
    initialDelayMs: z.number().int().positive().default(10_000),
    /** Each further delay is this many times the previous one… */
    multiplier: z.number().min(1).max(10).default(2),
    /** …up to this. */
    maxDelayMs: z.number().int().positive().default(3_600_000),
    /** Each delay is shortened by a random part of up to this fraction, so that receivers coming
     * back are not hit by every gateway at once. */
    jitter: z.number().min(0).max(1).default(0.3),
    /** A delivery still failing this long after its first attempt becomes a dead letter. */
    giveUpAfterMs: z.number().int().positive().default(26 * 3_600_000),
  })
  .strict();

/** How long the event log and the outbox keep what is done. */
const retention = z
  .object({
    /** Delivered deliveries, their attempts, and events with no delivery left are removed this
     * many days after (delivery, or the event). Pending deliveries and dead letters, and their
     * events, are never removed; nor is the newest event. */
    days: z.number().int().min(1).default(30),
  })
  .strict();

/** Callbacks (webhooks): the outgoing requests and their retries. */
const subscriptions = z
  .object({
    retry: retry.default(retry.parse({})),
    /** Callbacks in flight at once, over every subscription. */
    concurrency: z.number().int().min(1).max(256).default(16),
    /** Time to open the TCP (and TLS) connection to the receiver. */
    connectTimeoutMs: z.number().int().positive().default(5_000),
    /** Time for the receiver's whole answer, from the request's start. */
    responseTimeoutMs: z.number().int().positive().default(15_000),
    /** Bytes of a receiver's answer that are read; the rest is cut off. */
    maxResponseBytes: z.number().int().positive().default(64 * 1024),
    /** Lifetime of the JWT each callback carries, in seconds (its `exp`). */
    tokenLifetimeSeconds: z.number().int().min(5).max(3_600).default(60),
    /** Put the event id in the callback body as `eventId` too (it is always in the webhook-id
     * and x-scr-event-id headers). false gives exactly the spec's four keys. */
    eventIdInBody: z.boolean().default(true),
    /** How often due retries are looked for when nothing new happens. */
    pollIntervalMs: z.number().int().positive().default(1_000),
    retention: retention.default(retention.parse({})),
  })
  .strict();

export const configSchema = z
  .object({
    protocol: z.enum(["http", "https"]).default("http"),
    baseURL: z
      .string()
      .regex(/^\/[A-Za-z0-9._~\-/]*[^/]$|^\/$/, "a path starting with / and not ending with /")
      .default("/tmining/api/v1"),
    /** The SQLite database file, relative to the data directory. */
    sqliteDB: z.string().min(1).default("db.sqlite3"),
    /** Absent: no authentication. A `.pem` public key or a `.txt` shared secret. */
    authentication: z.string().min(1).optional(),
    auth: auth.default(auth.parse({})),
    subscriptionAuthTokenInBody: z.boolean().default(false),
    subscriptions: subscriptions.default(subscriptions.parse({})),
    dataDir: z.string().min(1).default("./data"),
    httpServer: httpServer.default(httpServer.parse({})),
    log4js: z
      .object({
        level: z.enum(LOG_LEVELS).default("info"),
        file: fileAppender.optional(),
      })
      .strict()
      .default({ level: "info" }),
    chain: chain.default(chain.parse({})),
    wallet: wallet.default(wallet.parse({})),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
