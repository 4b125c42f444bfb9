import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Contract, Wallet as EthersWallet, getAddress, isAddress } from "ethers";
import { loadConfig, resolveFrom } from "../config/load.js";
import { Role, decodeRevert, interfaces, waitForReceipt } from "../adapters/chain/evm/contracts.js";
import { adminKey, cliProvider } from "./chain.js";
import { loadPublic, type CommandIo } from "./wallet.js";

export const ORG_USAGE = `usage: scr org register --config <file> (--key-file <file> | --key-env <VAR>)
                        --name <name> --vat <vat> --role <role>
                        [--address <0x…> --public-key-file <pem>] [--rpc-url <url>]

Registers an organisation in the network's organisation registry, as its administrator
(the key that ran \`scr chain deploy\`). Roles: carrier, forwarder, transporter, terminal,
portsystem. Without --address, the organisation is the one whose wallet the configuration
names: its address and encryption public key are read from the keystore (no passphrase
needed). Another organisation's address and key come from its \`scr wallet show\`.
`;

const ROLES: Record<string, number> = {
  carrier: Role.Carrier,
  forwarder: Role.Forwarder,
  transporter: Role.Transporter,
  terminal: Role.Terminal,
  portsystem: Role.PortSystem,
};

/** `scr org ...`; resolves to the exit code. */
export async function orgCommand(argv: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "register") {
    io.stderr.write(sub ? `scr org: unknown command "${sub}"\n\n${ORG_USAGE}` : ORG_USAGE);
    return 2;
  }
  const fail = (message: string, code = 2) => {
    io.stderr.write(`scr org register: ${message}\n`);
    return code;
  };
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      options: {
        config: { type: "string", short: "c" },
        "key-file": { type: "string" },
        "key-env": { type: "string" },
        "rpc-url": { type: "string" },
        name: { type: "string" },
        vat: { type: "string" },
        role: { type: "string" },
        address: { type: "string" },
        "public-key-file": { type: "string" },
      },
    }));
  } catch (err) {
    return fail(`${(err as Error).message}\n\n${ORG_USAGE}`);
  }
  const name = values.name?.trim();
  const vat = values.vat?.replace(/[\s.]/g, "").toUpperCase();
  if (!name) return fail("--name is required");
  if (!vat) return fail("--vat is required");
  const role = ROLES[values.role?.toLowerCase() ?? ""];
  if (role === undefined) return fail(`--role must be one of ${Object.keys(ROLES).join(", ")}`);
  if ((values.address === undefined) !== (values["public-key-file"] === undefined)) {
    return fail("--address and --public-key-file go together");
  }
  if (values.address !== undefined && !isAddress(values.address)) return fail(`--address ${values.address} is not an address`);

  const config = loadConfig(values.config);
  const rpcUrl = values["rpc-url"] ?? config.chain.rpcUrl;
  if (!rpcUrl) return fail("no node: set chain.rpcUrl in the configuration or pass --rpc-url");
  const registryAddress = config.chain.contracts?.organizationRegistry;
  if (!registryAddress) return fail("the configuration names no chain.contracts.organizationRegistry (see `scr chain deploy`)");
  const key = adminKey(values);
  if (!key) return fail("the administrator key is missing: pass --key-file <file> or --key-env <VAR>");

  let account: string;
  let publicKey: string;
  try {
    if (values.address !== undefined && values["public-key-file"] !== undefined) {
      account = getAddress(values.address);
      publicKey = readFileSync(resolveFrom(process.cwd(), values["public-key-file"]), "utf8");
    } else {
      const w = loadPublic(values.config);
      account = w.address;
      publicKey = w.encryptionPublicKeyPem;
    }
  } catch (err) {
    return fail((err as Error).message, 1);
  }
  if (!publicKey.includes("BEGIN PUBLIC KEY")) return fail("the public key is not a PEM SPKI key (-----BEGIN PUBLIC KEY-----)");

  const provider = cliProvider(rpcUrl);
  try {
    const admin = new EthersWallet(key, provider);
    const registry = new Contract(registryAddress, interfaces.organizationRegistry, admin);
    const tx = await registry.getFunction("register")(account, name, vat, role, publicKey);
    await waitForReceipt(provider, tx.hash);
    io.stdout.write(`registered ${name} (${vat}, ${values.role?.toLowerCase()}) as ${account}\n`);
    return 0;
  } catch (err) {
    const revert = decodeRevert(err);
    return fail(revert ? revert.message : (err as Error).message.split("\n")[0] ?? "failed", 1);
  } finally {
    provider.destroy();
  }
}
