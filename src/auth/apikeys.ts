import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { API_KEY_HASH } from "../config/schema.js";
import { UnauthenticatedError } from "../domain/errors.js";
import { AuthSetupError } from "./keys.js";
import type { Principal, RoleName } from "./verifier.js";

export interface ApiKeyConfig {
  name: string;
  hash: string;
  roles: RoleName[];
}

interface ParsedHash {
  name: string;
  roles: RoleName[];
  params: { N: number; r: number; p: number };
  salt: Buffer;
  hash: Buffer;
}

/** scrypt parameters of new keys (about 16 MiB, tens of milliseconds). */
export const DEFAULT_SCRYPT = { N: 16384, r: 8, p: 1 } as const;
export const MAX_API_KEY_LENGTH = 256;

function derive(key: string, salt: Buffer, length: number, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const opts: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r * params.p };
  return new Promise((resolve, reject) =>
    scrypt(key, salt, length, opts, (err, out) => (err ? reject(err) : resolve(out))),
  );
}

/** A new random API key (printed once, never stored). */
export function generateApiKey(): string {
  return `scr_${randomBytes(32).toString("base64url")}`;
}

/** The configuration's `hash` of an API key: `scrypt$N$r$p$<salt b64>$<hash b64>`. */
export async function hashApiKey(key: string, params: { N: number; r: number; p: number } = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(key, salt, 32, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

function parse(entry: ApiKeyConfig): ParsedHash {
  const m = API_KEY_HASH.exec(entry.hash);
  if (!m) throw new AuthSetupError(`API key ${entry.name}: the hash is not scrypt$N$r$p$salt$hash`);
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Bounded so a configuration cannot make every request allocate gigabytes.
  if (N < 1024 || N > 2 ** 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16 || N * r > 2 ** 24) {
    throw new AuthSetupError(`API key ${entry.name}: scrypt parameters N=${N} r=${r} p=${p} are out of range`);
  }
  const salt = Buffer.from(m[4]!, "base64");
  const hash = Buffer.from(m[5]!, "base64");
  if (salt.length < 8 || hash.length < 16) throw new AuthSetupError(`API key ${entry.name}: the salt or hash is too short`);
  return { name: entry.name, roles: entry.roles, params: { N, r, p }, salt, hash };
}

/**
 * Checks `X-API-Key` values against the configured salted hashes. A successful derivation is
 * remembered by the SHA-256 of the key (never the key itself), so a known key costs one hash.
 */
export class ApiKeys {
  private readonly entries: ParsedHash[];
  private readonly accepted = new Map<string, ParsedHash>();

  constructor(config: readonly ApiKeyConfig[]) {
    this.entries = config.map(parse);
  }

  get size(): number {
    return this.entries.length;
  }

  async verify(key: string): Promise<Principal> {
    if (this.entries.length === 0) throw new UnauthenticatedError("API keys are not enabled");
    if (key.length === 0 || key.length > MAX_API_KEY_LENGTH) throw new UnauthenticatedError("invalid api key");
    const digest = createHash("sha256").update(key, "utf8").digest("hex");
    let match = this.accepted.get(digest);
    if (!match) {
      for (const entry of this.entries) {
        const derived = await derive(key, entry.salt, entry.hash.length, entry.params);
        if (timingSafeEqual(derived, entry.hash)) {
          match = entry;
          break;
        }
      }
      if (!match) throw new UnauthenticatedError("invalid api key");
      this.accepted.set(digest, match);
    }
    return { client: match.name, roles: new Set(match.roles) };
  }
}
