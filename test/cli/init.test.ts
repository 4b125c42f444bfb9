import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployAll, type ContractAddresses } from "../../src/adapters/chain/evm/contracts.js";
import { readPublicKeystore } from "../../src/adapters/wallet/keystore.js";
import { initCommand } from "../../src/cli/init.js";
import { walletCommand } from "../../src/cli/wallet.js";
import { loadConfig } from "../../src/config/load.js";
import { startTestAnvil, type TestAnvil } from "../support/anvil.js";
import { sink as capture } from "../support/cli-io.js";

// Wallets are created with the production scrypt cost (about 1 s each).

async function init(argv: string[], opts: { answers?: string[] } = {}) {
  const stdout = capture();
  const stderr = capture();
  let stdin: PassThrough | undefined;
  if (opts.answers) {
    stdin = new PassThrough();
    stdin.end(opts.answers.map((a) => `${a}\n`).join(""));
  }
  const code = await initCommand(argv, { stdout: stdout.stream, stderr: stderr.stream, stdin, interactive: opts.answers !== undefined });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** The keys the README documents for configuration.json. */
const DOCUMENTED = ["protocol", "baseURL", "sqliteDB", "authentication", "auth", "subscriptionAuthTokenInBody", "httpServer", "log4js", "dataDir", "chain", "wallet"];

const savedEnv = process.env.SCR_WALLET_PASSPHRASE;
let root: string;
beforeAll(() => {
  delete process.env.SCR_WALLET_PASSPHRASE; // the default passphrase source depends on it
  root = mkdtempSync(join(tmpdir(), "scr-init-"));
});
afterAll(() => {
  if (savedEnv === undefined) delete process.env.SCR_WALLET_PASSPHRASE;
  else process.env.SCR_WALLET_PASSPHRASE = savedEnv;
  rmSync(root, { recursive: true, force: true });
});

describe("scr init, with flags", () => {
  let dir: string;
  let config: string;
  let keystore: string;
  let secret: string;

  beforeAll(() => {
    dir = join(root, "flags");
    config = join(dir, "configuration.json");
    keystore = join(dir, "data", "wallet.json");
    secret = join(dir, "auth.txt");
  });

  it("creates a configuration the gateway accepts, the data directory, the wallet, the secret and the local chain", async () => {
    const r = await init(["--yes", "--dir", dir, "--port", "5077"]);
    expect(r.stderr).toMatch(/^deploy: contract 0\/3/m); // the embedded chain's deployment, as plain lines
    expect(r.code).toBe(0);

    const loaded = loadConfig(config);
    expect(loaded.httpServer).toMatchObject({ host: "127.0.0.1", port: 5077 });
    expect(loaded.baseURL).toBe("/tmining/api/v1");
    expect(loaded.authentication).toBe("auth.txt");
    expect(loaded.wallet.passphraseFile).toBe("passphrase.txt");
    expect(loaded.chain.rpcUrl).toBeUndefined();
    const written = JSON.parse(readFileSync(config, "utf8")) as Record<string, unknown>;
    for (const key of Object.keys(written)) expect(DOCUMENTED).toContain(key);

    expect(statSync(join(dir, "data")).isDirectory()).toBe(true);
    expect(statSync(secret).mode & 0o777).toBe(0o600);
    expect(readFileSync(secret, "utf8")).toMatch(/^[0-9a-f]{64}$/); // 256 bits, no new line
    expect(statSync(join(dir, "passphrase.txt")).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dir, "data", "chain", "deployment.json"))).toBe(true);

    // `scr wallet show` reads the wallet it created.
    const out = capture();
    expect(await walletCommand(["show", "--config", config, "--json"], { stdout: out.stream, stderr: capture().stream })).toBe(0);
    const shown = JSON.parse(out.text()) as { address: string; file: string };
    expect(shown.file).toBe(keystore);
    expect(shown.address).toBe(readPublicKeystore(keystore).address);

    // What to do next.
    expect(r.stdout).toContain(`This organisation's address: ${shown.address}`);
    expect(r.stdout).toContain(`scr start --config ${config}`);
    expect(r.stdout).toContain(`scr wallet show --config ${config}`);
    expect(r.stdout).toContain(`curl -s -H "Authorization: Bearer $(scr token --config ${config})" http://127.0.0.1:5077/tmining/api/v1/releases`);
    expect(r.stdout).toContain(`scr status --config ${config}`);
    expect(r.stdout).toContain("Test entity 1");
  });

  it("a second run keeps the configuration, the wallet, the passphrase and the secret", async () => {
    const before = { config: readFileSync(config), keystore: readFileSync(keystore), secret: readFileSync(secret), pass: readFileSync(join(dir, "passphrase.txt")) };
    const r = await init(["--yes", "--dir", dir, "--port", "6000", "--offline"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${config} exists; left unchanged`);
    expect(r.stdout).toContain("ignored, as they shape a new configuration: --port");
    expect(r.stdout).toContain(`wallet already exists at ${keystore}`);
    expect(r.stdout).toContain("authentication: auth.txt (kept)");
    expect(readFileSync(config)).toEqual(before.config);
    expect(readFileSync(keystore)).toEqual(before.keystore);
    expect(readFileSync(secret)).toEqual(before.secret);
    expect(readFileSync(join(dir, "passphrase.txt"))).toEqual(before.pass);
    expect(readdirSync(dir).filter((f) => f.includes(".bak-"))).toEqual([]);
  });

  it("--force replaces the configuration, the wallet and the secret, keeping a copy of each", async () => {
    const before = { config: readFileSync(config, "utf8"), keystore: readFileSync(keystore, "utf8"), secret: readFileSync(secret, "utf8") };
    const r = await init(["--yes", "--force", "--dir", dir, "--port", "6001", "--offline"]);
    expect(r.code).toBe(0);
    expect(loadConfig(config).httpServer.port).toBe(6001);

    const backups = (folder: string, name: string) => readdirSync(folder).filter((f) => f.startsWith(`${name}.bak-`)).map((f) => join(folder, f));
    const [configCopy] = backups(dir, "configuration.json");
    const [keystoreCopy] = backups(join(dir, "data"), "wallet.json");
    const [secretCopy] = backups(dir, "auth.txt");
    expect(readFileSync(configCopy!, "utf8")).toBe(before.config);
    expect(readFileSync(keystoreCopy!, "utf8")).toBe(before.keystore);
    expect(readFileSync(secretCopy!, "utf8")).toBe(before.secret);
    expect(readFileSync(keystore, "utf8")).not.toBe(before.keystore);
    expect(readFileSync(secret, "utf8")).not.toBe(before.secret);
    expect(readFileSync(secret, "utf8")).toMatch(/^[0-9a-f]{64}$/);
    for (const f of [configCopy, keystoreCopy, secretCopy]) expect(r.stdout).toContain(f);
  });
});

describe("scr init, bad flags", () => {
  const notPem = () => {
    const f = join(root, "not-a-cert.pem");
    writeFileSync(f, "hello");
    return f;
  };
  const cases: [string, string[], RegExp][] = [
    ["a port that is not a number", ["--port", "abc"], /--port: a port is a whole number from 1 to 65535, not "abc"/],
    ["a port out of range", ["--port", "70000"], /--port: /],
    ["an unknown protocol", ["--protocol", "ftp"], /--protocol: expected http or https, not "ftp"/],
    ["https without a certificate", ["--protocol", "https"], /--cert is needed/],
    ["a certificate that is not one", ["--protocol", "https", "--cert", "CERT"], /--cert: .* does not hold a PEM certificate/],
    ["a certificate with http", ["--cert", "CERT"], /--cert goes only with --protocol https/],
    ["a base URL ending with /", ["--base-url", "/api/"], /--base-url: /],
    ["an RPC URL that is not one", ["--rpc-url", "not a url"], /--rpc-url: "not a url" is not a URL/],
    ["an RPC URL without contracts", ["--rpc-url", "http://127.0.0.1:1"], /--contracts <file> \(or the three addresses\) is needed with --rpc-url/],
    ["a missing contracts file", ["--rpc-url", "http://127.0.0.1:1", "--contracts", "/nonexistent/c.json"], /--contracts: cannot read \/nonexistent\/c.json/],
    ["one address of three", ["--rpc-url", "http://127.0.0.1:1", "--connections", "0x0000000000000000000000000000000000000001"], /--organization-registry is needed/],
    ["an unknown authentication", ["--auth", "password"], /--auth: expected none or secret or public-key/],
    ["no authentication off loopback", ["--host", "0.0.0.0", "--auth", "none"], /--auth: none is allowed only on a loopback address/],
    ["a public key that is not a .pem", ["--auth", "public-key", "--public-key", "key.txt"], /--public-key: .*must be a .pem file/],
    ["a public key with a secret", ["--public-key", "CERT"], /--public-key goes only with --auth public-key/],
    ["both passphrase sources", ["--passphrase-env", "X", "--passphrase-file", "p.txt"], /--passphrase-env and --passphrase-file: give one of them/],
    ["a passphrase variable that is not set", ["--passphrase-env", "SCR_TEST_UNSET_PASSPHRASE"], /--passphrase-env: the variable SCR_TEST_UNSET_PASSPHRASE is not set/],
    ["an unknown flag", ["--bogus"], /Unknown option '--bogus'/],
  ];
  it.each(cases)("%s: exit 2 naming the flag, nothing written", async (_what, flags, message) => {
    const dir = mkdtempSync(join(root, "bad-"));
    const r = await init(["--yes", "--offline", "--dir", dir, ...flags.map((f) => (f === "CERT" ? notPem() : f))]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("scr init, interactive, on a network's node", () => {
  let chain: TestAnvil;
  let contracts: ContractAddresses;
  beforeAll(async () => {
    chain = await startTestAnvil();
    contracts = await deployAll(chain.wallet(0));
  });
  afterAll(() => chain?.stop());

  it("asks each question, asks again after a bad answer, checks the node and writes the answers", async () => {
    const dir = join(root, "asked");
    mkdirSync(dir);
    const deployed = join(dir, "chain.json");
    writeFileSync(deployed, JSON.stringify({ chain: { rpcUrl: chain.rpcUrl, chainId: 31337, contracts } }));
    const callers = join(dir, "callers.pem");
    writeFileSync(callers, generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }));

    const answers = [
      dir, // folder
      "", // data directory: data
      "0.0.0.0", // listen address
      "port?", // asked again
      "5088",
      "", // base URL
      "", // protocol: http
      chain.rpcUrl,
      deployed, // contracts
      "public-key",
      callers,
      "", // passphrase from: file (the variable is not set)
      "", // passphrase file: passphrase.txt
      "y",
    ];
    const r = await init([], { answers });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const question of ["Folder for configuration.json", "Listen address [127.0.0.1]: ", "Port [5000]: ", "JSON-RPC URL", "Callers' authentication", "Go ahead?"]) {
      expect(r.stdout).toContain(question);
    }
    expect(r.stdout).toContain('a port is a whole number from 1 to 65535, not "port?"');
    expect(r.stdout).toContain(`chain: the node at ${chain.rpcUrl} answers (chain 31337) and holds the contracts`);

    const loaded = loadConfig(join(dir, "configuration.json"));
    expect(loaded.httpServer).toMatchObject({ host: "0.0.0.0", port: 5088 });
    expect(loaded.chain).toMatchObject({ rpcUrl: chain.rpcUrl, chainId: 31337, contracts });
    expect(loaded.authentication).toBe("callers.pem");
    expect(loaded.wallet.passphraseFile).toBe("passphrase.txt");
    expect(existsSync(join(dir, "auth.txt"))).toBe(false);
    expect(existsSync(join(dir, "data", "chain"))).toBe(false); // no local chain with a node

    const address = readPublicKeystore(join(dir, "data", "wallet.json")).address;
    expect(r.stdout).toContain("scr org register --config <their configuration.json> --key-file admin.key");
    expect(r.stdout).toContain(`--address ${address}`);
    expect(r.stdout).toContain(`scr token --config ${join(dir, "configuration.json")} --private-key`);
  });

  it("a node without the contracts stops before anything is written", async () => {
    const dir = mkdtempSync(join(root, "wrong-"));
    const other = { ...contracts, releaseRegistry: "0x00000000000000000000000000000000000000aa" };
    const r = await init([
      "--yes", "--dir", dir, "--rpc-url", chain.rpcUrl,
      "--organization-registry", other.organizationRegistry, "--connections", other.connections, "--release-registry", other.releaseRegistry,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has no contract at 0x0{38}aa \(releaseRegistry\)/i);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("input that ends early stops without writing", async () => {
    const dir = mkdtempSync(join(root, "eof-"));
    const r = await init([], { answers: [dir, "data"] });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the input ended before every question was answered");
    expect(readdirSync(dir)).toEqual([]);
  });
});
