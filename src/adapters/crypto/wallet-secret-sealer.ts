import { hexlify } from "ethers";
import type { SecretSealer } from "../../ports/subscriptions.js";
import type { Wallet } from "../../ports/wallet.js";
import { pinFromHex } from "../chain/evm/release-codec.js";
import { openWith, sealFor } from "../wallet/envelope.js";

/** Marks a sealed value, so a secret stored in clear by an earlier version still opens. */
const PREFIX = "sealed:";

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** Secrets sealed for the wallet's own RSA key (RSA-OAEP, or hybrid for long ones). */
export class WalletSecretSealer implements SecretSealer {
  constructor(private readonly wallet: Pick<Wallet, "encryptionPublicKeyPem" | "unwrapKey">) {}

  seal(secret: string): string {
    return PREFIX + hexlify(sealFor(this.wallet.encryptionPublicKeyPem, utf8.encode(secret))).slice(2);
  }

  open(stored: string): string {
    if (!stored.startsWith(PREFIX)) return stored;
    return utf8Decoder.decode(openWith(this.wallet, pinFromHex(stored.slice(PREFIX.length))));
  }
}
