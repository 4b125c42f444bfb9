/**
 * A gateway's write pipeline in its own process, for crash tests. Environment:
 *   RPC_URL, DB, KEYSTORE, PASSPHRASE, RELEASE_REGISTRY   what to run against
 *   IDS          comma-separated release ids to create (submit mode); absent: resume only
 *   FAILPOINT    e.g. "after-sign-commit:7": SIGKILL this process at the 7th pass there
 * Prints "accepted <n>" once every write is recorded, and "settled" when none is in flight.
 */
import pino from "pino";
import { EvmChain } from "../../src/adapters/chain/evm/evm-chain.js";
import { decodeRevertData, interfaces } from "../../src/adapters/chain/evm/contracts.js";
import { SqliteStore } from "../../src/adapters/store/sqlite/store.js";
import { unlockKeystore } from "../../src/adapters/wallet/keystore.js";
import { WritePipeline } from "../../src/domain/operations/pipeline.js";

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

const [point, countText] = (process.env.FAILPOINT ?? "").split(":");
let passes = 0;
const failpoint = (name: string) => {
  if (name === point && ++passes === Number(countText)) process.kill(process.pid, "SIGKILL");
};

const store = SqliteStore.open(env("DB"));
const wallet = unlockKeystore(env("KEYSTORE"), env("PASSPHRASE"));
const chain = new EvmChain({ rpcUrl: env("RPC_URL"), decodeRevert: (d) => decodeRevertData(d)?.message ?? null });
const pipeline = new WritePipeline(store.operations, chain, wallet, pino({ level: "silent" }), {
  pollIntervalMs: 50,
  failpoint: point ? failpoint : undefined,
});

const registry = env("RELEASE_REGISTRY");
const ids = process.env.IDS ? process.env.IDS.split(",") : [];
for (const id of ids) {
  const data = interfaces.releaseRegistry.encodeFunctionData("create", [id, "0x" + "00".repeat(20), "0x01", "0x02", "0x03", "0x"]);
  pipeline.submit({ kind: "create", release: id, to: registry, data, idempotencyKey: `create-${id}` });
}
process.stdout.write(`accepted ${ids.length}\n`);
await pipeline.start();
while (store.operations.countInState("pending") + store.operations.countInState("submitted") > 0) {
  await new Promise((r) => setTimeout(r, 50));
}
await pipeline.stop();
chain.destroy();
store.close();
process.stdout.write("settled\n");
