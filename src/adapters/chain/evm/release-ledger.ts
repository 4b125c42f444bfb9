import { Contract, ZeroAddress, type Provider } from "ethers";
import type { GreenLights } from "../../../domain/releases/model.js";
import type { ContractCall, ReleaseLedger, ReleaseReader } from "../../../ports/release-ledger.js";
import { decodeRevert, interfaces } from "./contracts.js";
import { decodeGreenLights } from "./release-codec.js";

/** ReleaseLedger over the ReleaseRegistry ABI at `address`. */
export class EvmReleaseLedger implements ReleaseLedger {
  constructor(private readonly address: string) {}

  private call(fn: string, args: unknown[]): ContractCall {
    return { to: this.address, data: interfaces.releaseRegistry.encodeFunctionData(fn, args) };
  }

  create(id: string, terminal: string | null, sealedData: string, wrappedKeyForCreator: string, pinForCreator: string, pinForTerminal: string) {
    return this.call("create", [id, terminal ?? ZeroAddress, sealedData, wrappedKeyForCreator, pinForCreator, pinForTerminal]);
  }
  update(id: string, sealedData: string, parties: string[], wrappedKeys: string[]) {
    return this.call("update", [id, sealedData, parties, wrappedKeys]);
  }
  block(id: string) {
    return this.call("blockRelease", [id]);
  }
  unblock(id: string) {
    return this.call("unblockRelease", [id]);
  }
  remove(id: string) {
    return this.call("deleteRelease", [id]);
  }
  setPin(id: string, pinForOwner: string, rotated: boolean) {
    return this.call("setPin", [id, pinForOwner, rotated]);
  }
  setTerminal(id: string, terminal: string | null, pinForTerminal: string) {
    return this.call("setTerminal", [id, terminal ?? ZeroAddress, pinForTerminal]);
  }
  transfer(id: string, to: string, wrappedKeyForTo: string, pinForTo: string) {
    return this.call("transfer", [id, to, wrappedKeyForTo, pinForTo]);
  }
  markPinRetrieved(id: string) {
    return this.call("markPinRetrieved", [id]);
  }
  assign(id: string, sealedAssignment: string) {
    return this.call("assign", [id, sealedAssignment]);
  }
  unassign(id: string) {
    return this.call("unassign", [id]);
  }
  revoke(id: string) {
    return this.call("revoke", [id]);
  }
  recordGateOut(id: string, at: number) {
    return this.call("recordGateOut", [id, at]);
  }
  setGreenLights(id: string, encoded: string) {
    return this.call("setGreenLights", [id, encoded]);
  }
}

/** ReleaseReader over the ReleaseRegistry's views. */
export class EvmReleaseReader implements ReleaseReader {
  private readonly registry: Contract;

  constructor(provider: Provider, address: string) {
    this.registry = new Contract(address, interfaces.releaseRegistry, provider);
  }

  async greenLights(id: string): Promise<GreenLights | undefined> {
    try {
      const release = (await this.registry.getFunction("getRelease").staticCall(id)) as { greenLights: string };
      return decodeGreenLights(release.greenLights);
    } catch (err) {
      if (decodeRevert(err)?.name === "ReleaseNotFound") return undefined;
      throw err;
    }
  }
}
