import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { JsonRpcProvider, Wallet as EthersWallet } from "ethers";
import { loadConfig, resolveFrom } from "../config/load.js";
import { deployAll } from "../adapters/chain/evm/contracts.js";
import { deployProgress } from "./progress.js";
import type { CommandIo } from "./wallet.js";

export const CHAIN_USAGE = `usage: scr chain deploy --config <file> (--key-file <file> | --key-env <VAR>) [--rpc-url <url>]

Deploys the SCR contracts to the EVM node in chain.rpcUrl (or --rpc-url) and prints the
"chain" section to put in configuration.json. The deploying key becomes the organisation
registry's administrator: keep it apart from any gateway's wallet.
`;

/** `scr chain ...`; resolves to the exit code. */
export async function chainCommand(argv: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "deploy") {
    io.stderr.write(sub ? `scr chain: unknown command "${sub}"\n\n${CHAIN_USAGE}` : CHAIN_USAGE);
    return 2;
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        config: { type: "string", short: "c" },
        "key-file": { type: "string" },
        "key-env": { type: "string" },
        "rpc-url": { type: "string" },
      },
      strict: true,
    }));
  } catch (err) {
    io.stderr.write(`scr chain deploy: ${(err as Error).message}\n\n${CHAIN_USAGE}`);
    return 2;
  }
  const config = loadConfig(values.config);
  const rpcUrl = values["rpc-url"] ?? config.chain.rpcUrl;
  if (!rpcUrl) {
    io.stderr.write("scr chain deploy: no node to deploy to: set chain.rpcUrl in the configuration or pass --rpc-url\n");
    return 2;
  }
  const key = adminKey(values);
  if (!key) {
    io.stderr.write("scr chain deploy: the administrator key is missing: pass --key-file <file> or --key-env <VAR>\n");
    return 2;
  }
  const provider = cliProvider(rpcUrl);
  try {
    const admin = new EthersWallet(key, provider);
    const chainId = (await provider.getNetwork()).chainId;
    io.stderr.write(`deploying to ${rpcUrl} (chain ${chainId}) as ${admin.address} ...\n`);
    const contracts = await deployAll(admin, { onProgress: deployProgress(io.stderr) });
    io.stderr.write(`deployed: registry ${contracts.organizationRegistry}, connections ${contracts.connections}, releases ${contracts.releaseRegistry}\n`);
    io.stdout.write(JSON.stringify({ chain: { rpcUrl, chainId: Number(chainId), contracts } }, null, 2) + "\n");
    return 0;
  } catch (err) {
    io.stderr.write(`scr chain deploy: ${(err as Error).message.split("\n")[0]}\n`);
    return 1;
  } finally {
    provider.destroy();
  }
}

/** The registry administrator's private key from --key-file or --key-env, 0x-prefixed. */
export function adminKey(values: { "key-file"?: string; "key-env"?: string }): string | undefined {
  let key: string | undefined;
  if (values["key-file"]) key = readFileSync(resolveFrom(process.cwd(), values["key-file"]), "utf8").trim();
  else if (values["key-env"]) key = process.env[values["key-env"]]?.trim();
  if (!key) return undefined;
  return key.startsWith("0x") ? key : `0x${key}`;
}

/** A provider for one command: no polling cache, one request per call. */
export function cliProvider(rpcUrl: string): JsonRpcProvider {
  return new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, batchMaxCount: 1, cacheTimeout: -1 });
}
