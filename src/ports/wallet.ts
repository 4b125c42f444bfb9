import type { KeyObject } from "node:crypto";

/**
 * An unsigned EVM transaction, as plain values.
 *
 * - `maxFeePerGas` given (or `type: 2`): an EIP-1559 transaction; `maxPriorityFeePerGas`
 *   defaults to 0.
 * - otherwise a legacy (type 0) EIP-155 transaction; `gasPrice` defaults to 0, which
 *   permissioned networks (Besu, Quorum) accept.
 */
export interface UnsignedTx {
  /** 0x-prefixed 20-byte address; any letter case. */
  to: string;
  /** 0x-prefixed calldata ("0x" for none). */
  data: string;
  nonce: number;
  chainId: bigint;
  gasLimit: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  gasPrice?: bigint;
  value?: bigint;
  /** 0 (legacy) or 2 (EIP-1559); inferred from the fee fields when absent. */
  type?: number;
}

/**
 * The organisation's keys and the crypto done with them. Private material never leaves the
 * implementation, except the callback signing key as a `KeyObject`.
 */
export interface Wallet {
  /** EIP-55 checksummed address of the secp256k1 chain key. */
  readonly address: string;
  /** Signs with the chain key; resolves to the 0x-prefixed raw signed transaction. */
  signTransaction(tx: UnsignedTx): Promise<string>;

  /** RSA public key, PEM SPKI (`-----BEGIN PUBLIC KEY-----`), as published on chain and
   * returned to other organisations by GET /connections. */
  readonly encryptionPublicKeyPem: string;
  /** RSA-OAEP (SHA-256) decryption with the encryption private key. Throws when the data
   * was not wrapped for this wallet. */
  unwrapKey(wrapped: Uint8Array): Uint8Array;

  /** EC P-256 public key, PEM SPKI, that verifies the callback JWTs this gateway signs. */
  readonly callbackPublicKeyPem: string;
  /** EC P-256 private key (ES256) for callback JWTs. Never the chain key. */
  callbackPrivateKey(): KeyObject;
}
