import type { GreenLights } from "../domain/releases/model.js";

/** A contract call, ready for the write pipeline: the contract and the ABI-encoded call. */
export interface ContractCall {
  to: string;
  data: string;
}

/**
 * The release registry's writes, as calls. Bytes arguments are 0x hex; addresses any case.
 * The domain decides what to call; the adapter knows the ABI.
 */
export interface ReleaseLedger {
  create(id: string, terminal: string | null, sealedData: string, wrappedKeyForCreator: string, pinForCreator: string, pinForTerminal: string): ContractCall;
  update(id: string, sealedData: string, parties: string[], wrappedKeys: string[]): ContractCall;
  block(id: string): ContractCall;
  unblock(id: string): ContractCall;
  remove(id: string): ContractCall;
  /** `rotated`: the pincode changed because it had been retrieved; resets pinRetrieved. */
  setPin(id: string, pinForOwner: string, rotated: boolean): ContractCall;
  setTerminal(id: string, terminal: string | null, pinForTerminal: string): ContractCall;
  transfer(id: string, to: string, wrappedKeyForTo: string, pinForTo: string): ContractCall;
  markPinRetrieved(id: string): ContractCall;
  assign(id: string, sealedAssignment: string): ContractCall;
  unassign(id: string): ContractCall;
  revoke(id: string): ContractCall;
  /** Unix seconds; 0 cancels an earlier gate-out. */
  recordGateOut(id: string, at: number): ContractCall;
  setGreenLights(id: string, encoded: string): ContractCall;
}

/** What the local cache cannot answer: releases this organisation is not a party to. */
export interface ReleaseReader {
  /** The green lights published for the release (colours derived), or undefined when there is
   * no such release. */
  greenLights(id: string): Promise<GreenLights | undefined>;
}
