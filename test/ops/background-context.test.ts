/**
 * Work a request sets off (a pipeline round, a callback) must not log under that request's
 * id: the rounds and timers that follow belong to no request.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { SqliteStore } from "../../src/adapters/store/sqlite/store.js";
import { createEphemeralWallet } from "../../src/adapters/wallet/keystore.js";
import { parseConfig } from "../../src/config/load.js";
import { WritePipeline } from "../../src/domain/operations/pipeline.js";
import { createLogger, requestLogContext } from "../../src/logging/logger.js";
import type { Chain } from "../../src/ports/chain.js";

const dir = mkdtempSync(join(tmpdir(), "scr-bgctx-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A node that answers the start-up questions and an estimate, then fails (a failed round). */
const failingNode = {
  chainId: async () => 31337n,
  nonceOf: async () => 0,
  estimateGas: async () => 21_000n,
  fees: async () => {
    throw new Error("node unreachable");
  },
} as unknown as Chain;

it("a pipeline round a request kicked logs without the request's id", async () => {
  const logFile = join(dir, "gateway.log");
  const log = createLogger({ ...parseConfig({ log4js: { level: "debug", file: { filename: logFile } } }), baseDir: dir });
  const store = SqliteStore.open(join(dir, "db.sqlite3"));
  const pipeline = new WritePipeline(store.operations, failingNode, createEphemeralWallet(), log, { pollIntervalMs: 60_000 });
  await pipeline.start();
  await new Promise((r) => setTimeout(r, 50)); // the start-up round is over; the next is a minute away

  requestLogContext.run({ reqId: "req-kicks-the-pipeline" }, () => {
    log.info("inside the request");
    pipeline.submit({ kind: "test", to: "0x" + "11".repeat(20), data: "0x" });
  });

  let lines: string[] = [];
  for (let i = 0; i < 100 && !lines.some((l) => l.includes("write pipeline round failed")); i++) {
    await new Promise((r) => setTimeout(r, 50));
    lines = existsSync(logFile) ? readFileSync(logFile, "utf8").trim().split("\n") : [];
  }
  await pipeline.stop();
  store.close();
  const own = lines.find((l) => l.includes("inside the request"));
  const round = lines.find((l) => l.includes("write pipeline round failed"));
  expect(JSON.parse(own!).reqId).toBe("req-kicks-the-pipeline");
  expect(round).toBeDefined();
  expect(JSON.parse(round!).reqId).toBeUndefined();
});
