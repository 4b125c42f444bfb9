import type { Assignment, GreenLights, ReleaseData } from "../domain/releases/model.js";

/** Release data sealed for several parties; 0x hex, as the contract takes it. */
export interface SealedData {
  sealedData: string;
  /** In the order of the public keys given. */
  wrappedKeys: string[];
}

/**
 * The confidentiality of releases, done with this organisation's wallet: what the domain
 * needs to hand a release to the next party without seeing key material itself. Every
 * result is 0x hex, ready for a contract call.
 */
export interface ReleaseCrypto {
  /** Seals the data under a fresh data key and wraps that key for each PEM public key. */
  sealData(data: ReleaseData, publicKeyPems: string[]): SealedData;
  /** Unwraps the data key wrapped for this organisation and wraps it for `publicKeyPem`. */
  rewrapDataKey(wrappedForSelf: string, publicKeyPem: string): string;
  /** A pincode sealed for the holder of `publicKeyPem`. */
  sealPin(pin: string, publicKeyPem: string): string;
  /** Opens a pincode sealed for this organisation (hex, with or without 0x). */
  openPin(sealed: string): string;
  /** A fresh random pincode. */
  newPin(): string;
  /** The driver or barge sealed for each recipient. */
  sealAssignment(a: Assignment, recipients: { address: string; publicKeyPem: string }[]): string;
  /** Green lights as published on chain (values only). */
  encodeGreenLights(g: GreenLights): string;
}
