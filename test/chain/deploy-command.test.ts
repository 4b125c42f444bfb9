import { Writable } from "node:stream";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { chainCommand } from "../../src/cli/chain.js";
import { startTestAnvil, type TestAnvil } from "../support/anvil.js";

let chain: TestAnvil;
beforeAll(async () => {
  chain = await startTestAnvil();
});
afterAll(() => chain?.stop());

const sink = () => {
  let text = "";
  const stream = new Writable({ write: (c, _e, cb) => ((text += c), cb()) });
  return { stream, text: () => text };
};

it("scr chain deploy deploys to the configured node and prints the chain section to use", async () => {
  const dir = mkdtempSync(join(tmpdir(), "scr-deploy-"));
  const config = join(dir, "configuration.json");
  writeFileSync(config, JSON.stringify({ chain: { rpcUrl: chain.rpcUrl } }));
  const keyFile = join(dir, "admin.key");
  writeFileSync(keyFile, chain.wallet(3).privateKey + "\n");
  const out = sink();
  const err = sink();
  const code = await chainCommand(["deploy", "--config", config, "--key-file", keyFile], { stdout: out.stream, stderr: err.stream });
  expect(err.text()).toContain(`as ${chain.wallet(3).address}`);
  expect(code).toBe(0);
  const printed = JSON.parse(out.text()) as { chain: { rpcUrl: string; chainId: number; contracts: Record<string, string> } };
  expect(printed.chain.rpcUrl).toBe(chain.rpcUrl);
  expect(printed.chain.chainId).toBe(31337);
  for (const address of Object.values(printed.chain.contracts)) {
    expect(await chain.provider.getCode(address)).not.toBe("0x");
  }
  expect(Object.keys(printed.chain.contracts).sort()).toEqual(["connections", "organizationRegistry", "releaseRegistry"]);
});

it("scr chain deploy without a key says which flag is missing", async () => {
  const dir = mkdtempSync(join(tmpdir(), "scr-deploy-"));
  const config = join(dir, "configuration.json");
  writeFileSync(config, JSON.stringify({ chain: { rpcUrl: chain.rpcUrl } }));
  const err = sink();
  expect(await chainCommand(["deploy", "--config", config], { stdout: sink().stream, stderr: err.stream })).toBe(2);
  expect(err.text()).toMatch(/--key-file <file> or --key-env <VAR>/);
});
