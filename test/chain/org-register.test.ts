import { Writable } from "node:stream";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Contract } from "ethers";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Role, deployAll, interfaces, type ContractAddresses } from "../../src/adapters/chain/evm/contracts.js";
import { orgCommand } from "../../src/cli/org.js";
import { loadPublic, walletCommand } from "../../src/cli/wallet.js";
import { startTestAnvil, type TestAnvil } from "../support/anvil.js";

let chain: TestAnvil;
let addresses: ContractAddresses;
let dir: string;
let config: string;
let keyFile: string;

const sink = () => {
  let text = "";
  const stream = new Writable({ write: (c, _e, cb) => ((text += c), cb()) });
  return { stream, text: () => text };
};

async function run(...argv: string[]) {
  const out = sink();
  const err = sink();
  const code = await orgCommand(argv, { stdout: out.stream, stderr: err.stream });
  return { code, stdout: out.text(), stderr: err.text() };
}

beforeAll(async () => {
  chain = await startTestAnvil();
  addresses = await deployAll(chain.wallet(3));
  dir = mkdtempSync(join(tmpdir(), "scr-org-"));
  writeFileSync(join(dir, "pass.txt"), "org-register-passphrase\n");
  config = join(dir, "configuration.json");
  writeFileSync(
    config,
    JSON.stringify({ dataDir: "data", wallet: { passphraseFile: "pass.txt" }, chain: { rpcUrl: chain.rpcUrl, contracts: addresses } }),
  );
  keyFile = join(dir, "admin.key");
  writeFileSync(keyFile, chain.wallet(3).privateKey + "\n");
  const silent = { stdout: sink().stream, stderr: sink().stream };
  expect(await walletCommand(["init", "--config", config], silent)).toBe(0);
}, 60_000);

afterAll(async () => {
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it("registers the configured wallet's organisation with its name, VAT, role and encryption key", async () => {
  const wallet = loadPublic(config);
  const r = await run("register", "--config", config, "--key-file", keyFile, "--name", "Forwarder NV", "--vat", "be 0123.456.789", "--role", "forwarder");
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(wallet.address);
  const registry = new Contract(addresses.organizationRegistry, interfaces.organizationRegistry, chain.provider);
  const org = await registry.getFunction("getOrganization")(wallet.address);
  expect([org.name, org.vat, Number(org.role), org.publicKey, org.registered]).toEqual([
    "Forwarder NV",
    "BE0123456789",
    Role.Forwarder,
    wallet.encryptionPublicKeyPem,
    true,
  ]);
});

it("registers another organisation from its address and exported key; the contract's refusals read as English", async () => {
  const other = chain.wallet(5);
  const pem = join(dir, "other.pem");
  writeFileSync(pem, loadPublic(config).encryptionPublicKeyPem);
  const ok = await run("register", "--config", config, "--key-file", keyFile, "--name", "Terminal", "--vat", "NL000000001B01", "--role", "terminal", "--address", other.address, "--public-key-file", pem);
  expect(ok.code).toBe(0);
  const dup = await run("register", "--config", config, "--key-file", keyFile, "--name", "Again", "--vat", "NL000000001B01", "--role", "terminal", "--address", chain.wallet(6).address, "--public-key-file", pem);
  expect(dup.code).toBe(1);
  expect(dup.stderr).toMatch(/VatAlreadyRegistered|already registered/i);
  const notAdmin = join(dir, "not-admin.key");
  writeFileSync(notAdmin, chain.wallet(7).privateKey);
  const refused = await run("register", "--config", config, "--key-file", notAdmin, "--name", "X", "--vat", "DE000000009", "--role", "carrier", "--address", chain.wallet(8).address, "--public-key-file", pem);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/admin/i);
});

it("says which flag is missing or wrong, before any transaction", async () => {
  const base = ["register", "--config", config, "--key-file", keyFile];
  expect((await run(...base, "--vat", "BE0999999999", "--role", "carrier")).stderr).toContain("--name");
  expect((await run(...base, "--name", "N", "--role", "carrier")).stderr).toContain("--vat");
  const role = await run(...base, "--name", "N", "--vat", "BE0999999999", "--role", "captain");
  expect(role.code).toBe(2);
  expect(role.stderr).toContain("--role must be one of carrier, forwarder, transporter, terminal, portsystem");
  expect((await run(...base, "--name", "N", "--vat", "BE0999999999", "--role", "carrier", "--address", "0x12")).stderr).toContain("--address and --public-key-file go together");
  expect((await run("register", "--config", config, "--name", "N", "--vat", "BE0999999999", "--role", "carrier")).stderr).toContain("--key-file <file> or --key-env <VAR>");
});
