import type { Statement } from "better-sqlite3";
import type { Db } from "./open.js";

/** The replay cache of accepted JWTs, in the `used_tokens` table. */
export class UsedTokenRepository {
  private readonly insert: Statement<[string, number]>;
  private readonly purge: Statement<[number]>;
  private claims = 0;

  constructor(private readonly db: Db) {
    const c = db.$client;
    this.insert = c.prepare("INSERT OR IGNORE INTO used_tokens (id, expires_at) VALUES (?, ?)");
    this.purge = c.prepare("DELETE FROM used_tokens WHERE expires_at < ?");
  }

  /**
   * Records `id` as used until `expiresAt` (unix seconds). False when it was already used.
   * Expired entries are purged every so often; a purged token is refused by its exp anyway.
   */
  claim(id: string, expiresAt: number, now: number): boolean {
    if (++this.claims % 256 === 1) this.purge.run(now);
    return this.insert.run(id, expiresAt).changes === 1;
  }
}
