import { hexlify } from "ethers";
import type { SecretSealer } from "../../ports/subscriptions.js";
import type { Wallet } from "../../ports/wallet.js";
import { pinFromHex } from "../chain/evm/release-codec.js";
import { openWith, sealFor } from "../wallet/envelope.js";

/** Marks a sealed value, so a secret stored in clear by an earlier version still opens. */
const PREFIX = "sealed:";

/** More subscriptions with secrets than any gateway has; past it the cache starts over. */
const MAX_OPENED = 1_000;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** Secrets sealed for the wallet's own RSA key (RSA-OAEP, or hybrid for long ones). */
export class WalletSecretSealer implements SecretSealer {
  /** Opened secrets by their sealed form: an RSA decryption per callback would cap delivery
   * at a few hundred a second. The process holds them while it signs anyway. */
  private readonly opened = new Map<string, string>();

  constructor(private readonly wallet: Pick<Wallet, "encryptionPublicKeyPem" | "unwrapKey">) {}

  seal(secret: string): string {
    return PREFIX + hexlify(sealFor(this.wallet.encryptionPublicKeyPem, utf8.encode(secret))).slice(2);
  }

  open(stored: string): string {
    if (!stored.startsWith(PREFIX)) return stored;
    let secret = this.opened.get(stored);
    if (secret === undefined) {
      secret = utf8Decoder.decode(openWith(this.wallet, pinFromHex(stored.slice(PREFIX.length))));
      if (this.opened.size >= MAX_OPENED) this.opened.clear();
      this.opened.set(stored, secret);
    }
    return secret;
  }
}
