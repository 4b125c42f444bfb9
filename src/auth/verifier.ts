import { createHash } from "node:crypto";
import { isAbsolute, resolve } from "node:path";
import { errors, jwtVerify, type JWTPayload } from "jose";
import { UnauthenticatedError } from "../domain/errors.js";
import { ApiKeys, type ApiKeyConfig } from "./apikeys.js";
import { loadVerificationKey, type VerificationKey } from "./keys.js";

export type RoleName = "read" | "write" | "admin";

/** Who is calling, as established by a verified token. */
export interface Principal {
  client: string;
  roles: Set<RoleName>;
}

export const ALL_ROLES: readonly RoleName[] = ["read", "write", "admin"];

/** An internal system with its own key, selected by a token's `kid` header. */
export interface ClientKey {
  name: string;
  key: VerificationKey;
  roles: readonly RoleName[];
}

/** Remembers accepted tokens until they expire (SqliteStore.usedTokens). */
export interface ReplayCache {
  /** False when `id` was claimed before. Entries expiring before `purgeBefore` may be dropped. */
  claim(id: string, expiresAt: number, purgeBefore: number): boolean;
}

export interface VerifierOptions {
  maxTokenLifetimeSeconds: number;
  clockToleranceSeconds: number;
  /** Absent: replay protection is off. */
  replayCache?: ReplayCache;
  now?: () => number;
}

export const MAX_TOKEN_BYTES = 8 * 1024;

const fail = (reason: string): never => {
  throw new UnauthenticatedError(reason);
};

/**
 * Verifies callers' JWTs. A token with a `kid` header is checked with that client's key and
 * gets that client's roles; a token without one with the spec's single `authentication` key
 * (client "default", every role). A `roles` claim can narrow the roles, never widen them.
 * API keys (`X-API-Key`) are checked here too. Failures are UnauthenticatedErrors that name
 * the reason only.
 */
export class TokenVerifier {
  private readonly clients = new Map<string, ClientKey>();

  constructor(
    /** The `authentication` key; undefined when only clients (or API keys) are configured. */
    private readonly defaultKey: VerificationKey | undefined,
    private readonly opts: VerifierOptions,
    clients: readonly ClientKey[] = [],
    private readonly apiKeys: ApiKeys = new ApiKeys([]),
  ) {
    for (const c of clients) this.clients.set(c.name, c);
  }

  /** Checks an `X-API-Key` value (API keys are not one-time). */
  verifyApiKey(key: string): Promise<Principal> {
    return this.apiKeys.verify(key);
  }

  async verify(token: string): Promise<Principal> {
    if (token.length > MAX_TOKEN_BYTES) fail("token too large");
    const parts = token.split(".");
    // Only canonical base64url: otherwise one token has many spellings, each a new replay id.
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p) || !canonical(p))) fail("malformed token");
    let header: { alg?: unknown; kid?: unknown } = {};
    try {
      header = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8")) as typeof header;
    } catch {
      fail("malformed token");
    }
    if (typeof header !== "object" || header === null || Array.isArray(header)) fail("malformed token");
    const { alg, kid } = header;
    let client: ClientKey;
    if (kid === undefined) {
      if (!this.defaultKey) fail("token has no kid");
      client = { name: "default", key: this.defaultKey!, roles: ALL_ROLES };
    } else {
      if (typeof kid !== "string") fail("malformed token");
      const found = this.clients.get(kid as string);
      if (!found) fail("unknown key id");
      client = found!;
    }
    // The allow-list follows from the key alone: never `none`, never HS* with a public key.
    const algorithms: readonly string[] = client.key.algorithms;
    if (typeof alg !== "string" || !algorithms.includes(alg)) fail("algorithm not allowed");

    const nowMs = this.opts.now?.() ?? Date.now();
    const now = Math.floor(nowMs / 1000);
    const tolerance = this.opts.clockToleranceSeconds;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, client.key.key, {
        algorithms: [...algorithms],
        requiredClaims: ["exp"],
        clockTolerance: tolerance,
        currentDate: new Date(nowMs),
      }));
    } catch (err) {
      throw new UnauthenticatedError(reasonOf(err));
    }

    const exp = payload.exp;
    if (exp === undefined) fail("token has no exp");
    if (typeof exp !== "number" || !Number.isFinite(exp)) fail("exp must be a number");
    const max = this.opts.maxTokenLifetimeSeconds;
    const iat = payload.iat;
    if (iat !== undefined && (typeof iat !== "number" || !Number.isFinite(iat))) fail("iat must be a number");
    const tooLong = `token lifetime exceeds ${max} seconds`;
    if (typeof iat === "number" && exp! - iat > max) fail(tooLong);
    if (exp! - now > max + tolerance) fail(tooLong);

    let roles = new Set<RoleName>(client.roles);
    const claimed = payload["roles"];
    if (claimed !== undefined) {
      if (!Array.isArray(claimed) || !claimed.every((r) => typeof r === "string")) fail("roles must be a list of role names");
      // Narrowing only: a role the client does not have is ignored.
      roles = new Set([...roles].filter((r) => (claimed as string[]).includes(r)));
    }

    if (this.opts.replayCache) {
      // Clients choose their own jti: one client's cannot block another's.
      const scope = kid === undefined ? "" : `${client.name}:`;
      const id = typeof payload.jti === "string" && payload.jti !== ""
        ? `jti:${scope}${payload.jti}`
        : // The signed part only: ECDSA signatures are malleable, the signed header and payload not.
          `sha256:${createHash("sha256").update(`${parts[0]}.${parts[1]}`).digest("hex")}`;
      // Kept until exp plus the tolerance: until then the token would still pass the checks.
      if (!this.opts.replayCache.claim(id, Math.ceil(exp!) + tolerance, now)) fail("token already used");
    }
    return { client: client.name, roles };
  }
}

function canonical(segment: string): boolean {
  return Buffer.from(segment, "base64url").toString("base64url") === segment;
}

function reasonOf(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "token expired";
  if (err instanceof errors.JWSSignatureVerificationFailed) return "bad signature";
  if (err instanceof errors.JOSEAlgNotAllowed) return "algorithm not allowed";
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "exp") return err.reason === "missing" ? "token has no exp" : "exp must be a number";
    if (err.claim === "nbf") return err.reason === "check_failed" ? "token not yet valid" : "nbf must be a number";
    if (err.claim === "iat") return "iat must be a number";
    return "malformed token";
  }
  return "malformed token";
}

/** The verifier the configuration asks for, or undefined when no key, client or API key is configured. */
export function verifierFromConfig(
  config: {
    authentication?: string;
    baseDir: string;
    auth: {
      maxTokenLifetimeSeconds: number;
      clockToleranceSeconds: number;
      replayProtection: boolean;
      secretEncoding: "utf8" | "base64";
      clients?: readonly { name: string; key: string; roles: RoleName[] }[];
      apiKeys?: readonly ApiKeyConfig[];
    };
  },
  replayCache: ReplayCache,
): TokenVerifier | undefined {
  const clients = config.auth.clients ?? [];
  const apiKeys = config.auth.apiKeys ?? [];
  if (!config.authentication && clients.length === 0 && apiKeys.length === 0) return undefined;
  const load = (file: string) =>
    loadVerificationKey(isAbsolute(file) ? file : resolve(config.baseDir, file), { secretEncoding: config.auth.secretEncoding });
  const key = config.authentication ? load(config.authentication) : undefined;
  return new TokenVerifier(
    key,
    {
      maxTokenLifetimeSeconds: config.auth.maxTokenLifetimeSeconds,
      clockToleranceSeconds: config.auth.clockToleranceSeconds,
      replayCache: config.auth.replayProtection ? replayCache : undefined,
    },
    clients.map((c) => ({ name: c.name, key: load(c.key), roles: c.roles })),
    new ApiKeys(apiKeys),
  );
}
