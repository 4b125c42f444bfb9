import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { SqliteStore } from "../../src/adapters/store/sqlite/store.js";
import { verifierFromConfig } from "../../src/auth/verifier.js";
import { parseConfig } from "../../src/config/load.js";
import { fresh, hmacSetup, token } from "./tokens.js";

it("a token used before a restart is still refused after it: the replay cache is on disk", async () => {
  const dir = mkdtempSync(join(tmpdir(), "scr-replay-"));
  const k = hmacSetup();
  writeFileSync(join(dir, k.file), k.contents);
  const config = { ...parseConfig({ authentication: k.file }), baseDir: dir };
  const db = join(dir, "db.sqlite3");
  const t = token(k, fresh());

  const before = SqliteStore.open(db);
  await expect(verifierFromConfig(config, before.usedTokens)!.verify(t)).resolves.toMatchObject({ client: "default" });
  before.close();

  const after = SqliteStore.open(db);
  try {
    await expect(verifierFromConfig(config, after.usedTokens)!.verify(t)).rejects.toThrow("token already used");
    // A different token is still fine: the cache refuses that one token, not the key.
    await expect(verifierFromConfig(config, after.usedTokens)!.verify(token(k, fresh()))).resolves.toBeDefined();
  } finally {
    after.close();
  }
});
