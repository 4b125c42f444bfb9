import type { Config } from "../../config/schema.js";
import { resolveFrom } from "../../config/load.js";

/** Where the keystore and the passphrase file are, from the configuration. */
export function walletPaths(config: Config & { baseDir: string }): {
  dataDir: string;
  keystore: string;
  passphraseFile?: string;
} {
  const dataDir = resolveFrom(config.baseDir, config.dataDir);
  const keystore = resolveFrom(dataDir, config.wallet.keystore);
  return config.wallet.passphraseFile === undefined
    ? { dataDir, keystore }
    : { dataDir, keystore, passphraseFile: resolveFrom(config.baseDir, config.wallet.passphraseFile) };
}
