import { createHash } from "node:crypto";
import { isAbsolute, resolve } from "node:path";
import { errors, jwtVerify, type JWTPayload } from "jose";
import { UnauthenticatedError } from "../domain/errors.js";
import { loadVerificationKey, type VerificationKey } from "./keys.js";

export type RoleName = "read" | "write" | "admin";

/** Who is calling, as established by a verified token. */
export interface Principal {
  client: string;
  roles: Set<RoleName>;
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
 * Verifies callers' JWTs against the one configured key (the spec's single `authentication`
 * file: one client, "default", with every role). Failures are UnauthenticatedErrors that name
 * the reason only.
 */
export class TokenVerifier {
  private readonly algorithms: readonly string[];

  constructor(
    private readonly key: VerificationKey,
    private readonly opts: VerifierOptions,
  ) {
    // The allow-list follows from the key alone: never `none`, never HS* with a public key.
    this.algorithms = [...key.algorithms];
  }

  async verify(token: string): Promise<Principal> {
    if (token.length > MAX_TOKEN_BYTES) fail("token too large");
    const parts = token.split(".");
    // Only canonical base64url: otherwise one token has many spellings, each a new replay id.
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p) || !canonical(p))) fail("malformed token");
    let alg: unknown;
    try {
      alg = (JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8")) as { alg?: unknown }).alg;
    } catch {
      fail("malformed token");
    }
    if (typeof alg !== "string" || !this.algorithms.includes(alg)) fail("algorithm not allowed");

    const nowMs = this.opts.now?.() ?? Date.now();
    const now = Math.floor(nowMs / 1000);
    const tolerance = this.opts.clockToleranceSeconds;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key.key, {
        algorithms: [...this.algorithms],
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

    if (this.opts.replayCache) {
      const id = typeof payload.jti === "string" && payload.jti !== ""
        ? `jti:${payload.jti}`
        : // The signed part only: ECDSA signatures are malleable, the signed header and payload not.
          `sha256:${createHash("sha256").update(`${parts[0]}.${parts[1]}`).digest("hex")}`;
      // Kept until exp plus the tolerance: until then the token would still pass the checks.
      if (!this.opts.replayCache.claim(id, Math.ceil(exp!) + tolerance, now)) fail("token already used");
    }
    return { client: "default", roles: new Set(["read", "write", "admin"]) };
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

/** The verifier the configuration asks for, or undefined when `authentication` is absent. */
export function verifierFromConfig(
  config: {
    authentication?: string;
    baseDir: string;
    auth: { maxTokenLifetimeSeconds: number; clockToleranceSeconds: number; replayProtection: boolean; secretEncoding: "utf8" | "base64" };
  },
  replayCache: ReplayCache,
): TokenVerifier | undefined {
  if (!config.authentication) return undefined;
  const file = isAbsolute(config.authentication) ? config.authentication : resolve(config.baseDir, config.authentication);
  const key = loadVerificationKey(file, { secretEncoding: config.auth.secretEncoding });
  return new TokenVerifier(key, {
    maxTokenLifetimeSeconds: config.auth.maxTokenLifetimeSeconds,
    clockToleranceSeconds: config.auth.clockToleranceSeconds,
    replayCache: config.auth.replayProtection ? replayCache : undefined,
  });
}
