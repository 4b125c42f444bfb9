import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../config/load.js";
import { startGateway } from "../main.js";
import { authCommand, tokenCommand } from "./auth.js";
import { chainCommand } from "./chain.js";
import { initCommand } from "./init.js";
import { statusCommand } from "./status.js";
import { orgCommand } from "./org.js";
import { sandboxCommand } from "./sandbox.js";
import { deployProgress, followCatchUp } from "./progress.js";
import { walletCommand } from "./wallet.js";

const USAGE = `usage: scr <command> [options]

commands:
  init [--yes] [--dir <folder>] ...
                            set up a gateway: configuration, wallet, keys (scr init --help)
  start [--config <file>]   run the gateway (embedded defaults without --config)
  status [--config <file>] [--json]
                            is the gateway healthy? exit 1 when not (scr status --help)
  wallet init|show|export-public-key
                            the organisation's keys, encrypted at rest (scr wallet --help)
  chain deploy --config <file> --key-file <file>
                            deploy the contracts to the configured node; prints the config
  org register --config <file> --key-file <file> --name <n> --vat <v> --role <r>
                            register an organisation, as the registry administrator
  sandbox info|create-release|transfer|block|unblock|delete|green-lights|call
                            drive the sandbox's carrier, entity 2 and terminal (scr sandbox --help)
  auth set-secret|set-public-key|add-client|add-api-key --config <file>
                            callers' keys and API keys (scr auth --help)
  token [--config <file>] [--client <name>] [--ttl 30] [--private-key <pem>]
                            print a token the configured gateway accepts
`;

/** Errors that mean "fix the set-up", reported in one line rather than a stack trace. */
const SETUP_ERRORS = new Set([
  "ChainSetupError",
  "ChainResetError",
  "WalletSetupError",
  "KeystoreError",
  "WalletNotFoundError",
  "WrongPassphraseError",
  "PassphraseError",
  "AnvilError",
  "SandboxError",
]);

/** Runs one command; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "start":
      return start(rest);
    case "status":
      return statusCommand(rest, { stdout: process.stdout, stderr: process.stderr });
    case "init":
      return initCommand(rest, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
    case "chain":
      return chainCommand(rest, { stdout: process.stdout, stderr: process.stderr });
    case "org":
      return orgCommand(rest, { stdout: process.stdout, stderr: process.stderr });
    case "sandbox":
      return sandboxCommand(rest, { stdout: process.stdout, stderr: process.stderr });
    case "auth":
      return authCommand(rest, { stdout: process.stdout, stderr: process.stderr });
    case "token":
      return tokenCommand(rest, { stdout: process.stdout, stderr: process.stderr });
    case "wallet":
      return walletCommand(rest, { stdout: process.stdout, stderr: process.stderr });
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`scr: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

async function start(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: "string", short: "c" } } });
  let gateway;
  try {
    gateway = await startGateway(loadConfig(values.config), undefined, { onDeployProgress: deployProgress(process.stderr) });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`scr: ${err.message}\n`);
      return 78; // EX_CONFIG
    }
    if (err instanceof Error && SETUP_ERRORS.has(err.name)) {
      process.stderr.write(`scr: cannot start: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const catchUp = followCatchUp(gateway.indexer, process.stderr);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      gateway.ctx.logger.info({ signal }, "stopping");
      resolve();
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  catchUp.stop();
  await gateway.stop();
  return 0;
}
