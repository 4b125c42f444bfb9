import { randomInt } from "node:crypto";
import { getBytes, hexlify } from "ethers";
import type { ReleaseCrypto, SealedData } from "../../ports/release-crypto.js";
import type { Wallet } from "../../ports/wallet.js";
import type { Assignment, GreenLights, ReleaseData } from "../../domain/releases/model.js";
import { encodeGreenLights, pinFromHex, sealAssignment, sealReleaseFor } from "../chain/evm/release-codec.js";
import { openWith, sealFor, wrapKeyFor } from "../wallet/envelope.js";

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** Digits in a pincode this gateway makes, as in the specification's example. */
const PIN_DIGITS = 6;

/** ReleaseCrypto over the organisation's wallet and the envelope formats of the release codec. */
export class WalletReleaseCrypto implements ReleaseCrypto {
  constructor(private readonly wallet: Pick<Wallet, "unwrapKey">) {}

  sealData(data: ReleaseData, publicKeyPems: string[]): SealedData {
    const sealed = sealReleaseFor(data, publicKeyPems);
    return { sealedData: hexlify(sealed.sealedData), wrappedKeys: sealed.wrappedKeys.map((k) => hexlify(k)) };
  }

  rewrapDataKey(wrappedForSelf: string, publicKeyPem: string): string {
    const dataKey = this.wallet.unwrapKey(getBytes(wrappedForSelf));
    try {
      return hexlify(wrapKeyFor(publicKeyPem, dataKey));
    } finally {
      dataKey.fill(0);
    }
  }

  sealPin(pin: string, publicKeyPem: string): string {
    return hexlify(sealFor(publicKeyPem, utf8.encode(pin)));
  }

  openPin(sealed: string): string {
    const bytes = openWith(this.wallet, pinFromHex(sealed));
    try {
      return utf8Decoder.decode(bytes);
    } finally {
      bytes.fill(0);
    }
  }

  newPin(): string {
    return String(randomInt(0, 10 ** PIN_DIGITS)).padStart(PIN_DIGITS, "0");
  }

  sealAssignment(a: Assignment, recipients: { address: string; publicKeyPem: string }[]): string {
    return hexlify(sealAssignment(a, recipients));
  }

  encodeGreenLights(g: GreenLights): string {
    return hexlify(encodeGreenLights(g));
  }
}
