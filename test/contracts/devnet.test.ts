import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AnvilError, anvilBinaryPath, startAnvil } from "../../src/adapters/chain/devnet/anvil.js";
import { Role, connectContracts, deployAll, waitForReceipt } from "../../src/adapters/chain/evm/contracts.js";
import { startTestAnvil } from "../support/anvil.js";

const dir = mkdtempSync(join(tmpdir(), "scr-anvil-"));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("devnet anvil", () => {
  it("resolves the binary shipped in the npm package", () => {
    expect(existsSync(anvilBinaryPath())).toBe(true);
  });

  it("keeps the chain in its state file across a restart", async () => {
    const stateFile = join(dir, "chain", "state.json");
    const first = await startTestAnvil({ stateFile, chainId: 1337 });
    expect(first.rpcUrl).toBe(`http://127.0.0.1:${first.anvil.port}`);
    expect(first.chainId).toBe(1337);
    const addresses = await deployAll(first.wallet(0));
    const registry = connectContracts(addresses, first.wallet(0)).organizationRegistry;
    const sent = await registry.getFunction("register")(first.wallet(1).address, "Carrier NV", "BE01", Role.Carrier, "pem");
    await waitForReceipt(first.provider, sent.hash);
    const height = await first.provider.getBlockNumber();
    await first.stop();
    expect(isAlive(first.anvil.pid)).toBe(false);
    expect(existsSync(stateFile)).toBe(true);

    const second = await startTestAnvil({ stateFile, chainId: 1337 });
    try {
      expect(await second.provider.getBlockNumber()).toBe(height);
      const reader = connectContracts(addresses, second.provider).organizationRegistry;
      expect(await reader.getFunction("accountByVat")("BE01")).toBe(second.wallet(1).address);
    } finally {
      await second.stop();
    }
  });

  it("stop() is idempotent; a failing start reports anvil's output", async () => {
    const anvil = await startAnvil();
    await Promise.all([anvil.stop(), anvil.stop()]);
    await anvil.stop();
    expect((await anvil.exited).code).toBe(0);

    const failure = startAnvil({ extraArgs: ["--no-such-flag"] });
    await expect(failure).rejects.toBeInstanceOf(AnvilError);
    await expect(failure).rejects.toThrow(/exited before it was ready[\s\S]*--no-such-flag/);
  });
});
