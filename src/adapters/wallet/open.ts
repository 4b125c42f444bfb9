import { existsSync } from "node:fs";
import type { Logger } from "pino";
import type { LoadedConfig } from "../../config/load.js";
import type { Wallet } from "../../ports/wallet.js";
import { createKeystore, unlockKeystore } from "./keystore.js";
import { resolvePassphrase } from "./passphrase.js";
import { walletPaths } from "./paths.js";

export class WalletSetupError extends Error {
  override readonly name = "WalletSetupError";
}

/**
 * Unlocks the organisation's wallet for the gateway. On the embedded defaults (`npm start`
 * with no configuration) a missing wallet is created, with a generated passphrase beside it
 * and a loud warning; with a configuration file, `scr wallet init` must have been run.
 */
export function openWallet(config: LoadedConfig, log: Logger): Wallet {
  const paths = walletPaths(config);
  const embedded = config.embedded === true;
  if (!existsSync(paths.keystore) && !embedded) {
    throw new WalletSetupError(`no wallet at ${paths.keystore}: run \`scr wallet init --config <file>\` first`);
  }
  const secret = resolvePassphrase({
    env: config.wallet.passphraseEnv,
    file: paths.passphraseFile,
    dataDir: paths.dataDir,
    allowGenerated: embedded,
  });
  if (secret.generated) {
    log.warn(
      { passphraseFile: secret.file },
      "SANDBOX: the wallet passphrase was generated and is stored next to the keystore. " +
        `For production, create the wallet with \`scr wallet init --config <file>\` and keep the passphrase in ${config.wallet.passphraseEnv} or a protected file.`,
    );
  }
  if (!existsSync(paths.keystore)) {
    const created = createKeystore(paths.keystore, secret.passphrase);
    log.warn({ address: created.address, keystore: paths.keystore }, "SANDBOX: a new wallet was created");
  }
  return unlockKeystore(paths.keystore, secret.passphrase);
}
