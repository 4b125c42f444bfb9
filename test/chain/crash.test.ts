import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Contract, getAddress, hexlify, randomBytes } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role, deployAll, interfaces, type ContractAddresses } from "../../src/adapters/chain/evm/contracts.js";
import { SqliteStore } from "../../src/adapters/store/sqlite/store.js";
import { createKeystore } from "../../src/adapters/wallet/keystore.js";
import { mined, startTestAnvil, type TestAnvil } from "../support/anvil.js";

const script = fileURLToPath(new URL("../support/pipeline-process.ts", import.meta.url));

let chain: TestAnvil;
let addresses: ContractAddresses;

beforeAll(async () => {
  // Many concurrent writes: mixed mining sweeps up what automine misses (foundry#10122).
  chain = await startTestAnvil({ mixedMiningSeconds: 0.5 });
  addresses = await deployAll(chain.wallet(0));
});
afterAll(() => chain?.stop());

function runPipeline(env: Record<string, string>): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    // One process (no tsx wrapper), so the SIGKILL hits the pipeline itself.
    const child = spawn(process.execPath, ["--import", "tsx", script], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve({ code, signal, out, err }));
  });
}

async function carrier() {
  const dir = mkdtempSync(join(tmpdir(), "scr-crash-"));
  const keystore = join(dir, "wallet.json");
  const wallet = createKeystore(keystore, "crash-test", { scrypt: { N: 2 ** 12 } });
  await chain.provider.send("anvil_setBalance", [wallet.address, "0x56BC75E2D63100000"]);
  const registry = new Contract(addresses.organizationRegistry, interfaces.organizationRegistry, chain.wallet(0));
  await mined(chain.provider, registry.getFunction("register")(wallet.address, "Crash Carrier", `BE${Date.now()}${Math.floor(Math.random() * 1e6)}`, Role.Carrier, wallet.encryptionPublicKeyPem));
  const env = { RPC_URL: chain.rpcUrl, DB: join(dir, "db.sqlite3"), KEYSTORE: keystore, PASSPHRASE: "crash-test", RELEASE_REGISTRY: addresses.releaseRegistry };
  return { address: wallet.address, env, db: join(dir, "db.sqlite3") };
}

describe("a gateway killed with SIGKILL loses no accepted write and applies none twice", () => {
  for (const point of ["after-sign-commit", "after-broadcast"]) {
    it(`killed ${point.replace(/-/g, " ")} (signed and stored, ${point === "after-sign-commit" ? "not yet broadcast" : "broadcast, receipt not yet read"})`, async () => {
      const { address, env, db } = await carrier();
      const ids = Array.from({ length: 20 }, () => getAddress(hexlify(randomBytes(20))));

      const crashed = await runPipeline({ ...env, IDS: ids.join(","), FAILPOINT: `${point}:7` });
      expect(crashed.signal).toBe("SIGKILL");
      expect(crashed.out).toContain("accepted 20");

      const before = SqliteStore.open(db);
      const inFlight = before.operations.countInState("pending") + before.operations.countInState("submitted");
      before.close();
      expect(inFlight).toBeGreaterThan(0); // the crash really left work behind

      const resumed = await runPipeline(env);
      expect(resumed.err).toBe("");
      expect(resumed.code).toBe(0);
      expect(resumed.out).toContain("settled");

      const after = SqliteStore.open(db);
      const ops = after.operations.listOperations({ limit: 1000 });
      after.close();
      expect(ops).toHaveLength(20);
      expect(ops.filter((o) => o.state !== "confirmed").map((o) => `${o.state}: ${o.failureReason}`)).toEqual([]);
      // Exactly one transaction per write reached the chain: the nonce counts them.
      expect(await chain.provider.getTransactionCount(address, "latest")).toBe(20);
      const registry = new Contract(addresses.releaseRegistry, interfaces.releaseRegistry, chain.provider);
      for (const id of ids) expect(await registry.getFunction("exists")(id)).toBe(true);
    });
  }
});
