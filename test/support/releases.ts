/**
 * Releases on the test network without the CarrierService: a gateway registered as a carrier
 * builds the registry calls with its own ledger and crypto and submits them to its pipeline.
 */
import { getAddress, hexlify, randomBytes } from "ethers";
import type { ReleaseData, ReleaseRecord } from "../../src/domain/releases/model.js";
import type { Gateway } from "../../src/main.js";
import type { ContractCall } from "../../src/ports/release-ledger.js";
import type { OperationRecord } from "../../src/ports/operations.js";
import { specReleaseData } from "./gateway.js";
import { rest, type RestResponse, type TestNetwork } from "./network.js";

export interface CreatedRelease {
  /** Checksummed release address. */
  id: string;
  /** The pincode in clear, as the carrier sealed it. */
  pin: string;
  data: ReleaseData;
}

const chainOf = (gw: Gateway) => {
  if (!gw.ctx.chain) throw new Error("the gateway has no chain");
  return gw.ctx.chain;
};

/** A fresh random release address. */
export function randomReleaseId(): string {
  return getAddress(hexlify(randomBytes(20)));
}

/** Submits a call through the gateway's pipeline and waits until it is confirmed. */
export async function submitAndSettle(gw: Gateway, kind: string, release: string, call: ContractCall): Promise<OperationRecord> {
  const pipeline = chainOf(gw).pipeline;
  const { operation } = pipeline.submit({ kind, release, ...call });
  const op = await pipeline.settled(operation.id, 30_000);
  if (op.state !== "confirmed") throw new Error(`${kind} on ${release} did not confirm: ${op.state} ${op.failureReason ?? ""}`);
  return op;
}

/**
 * The carrier creates a release, owned by itself, with the data key wrapped for itself and,
 * when a terminal is given, for the terminal too (the pin as well). Resolves once the
 * carrier's cache holds it.
 */
export async function createRelease(
  net: TestNetwork,
  carrier: Gateway,
  opts: { terminal?: Gateway; data?: ReleaseData; pin?: string } = {},
): Promise<CreatedRelease> {
  const { crypto, ledger, wallet } = chainOf(carrier);
  const id = randomReleaseId();
  const data = opts.data ?? specReleaseData(`BL-${id.slice(2, 10)}`);
  const pin = opts.pin ?? crypto.newPin();
  const carrierPem = wallet.encryptionPublicKeyPem;
  const terminal = opts.terminal ? chainOf(opts.terminal).wallet : undefined;
  const sealed = crypto.sealData(data, terminal ? [carrierPem, terminal.encryptionPublicKeyPem] : [carrierPem]);
  const pinForTerminal = terminal ? crypto.sealPin(pin, terminal.encryptionPublicKeyPem) : "0x";
  await submitAndSettle(
    carrier,
    "create_release",
    id,
    ledger.create(id, terminal?.address ?? null, sealed.sealedData, sealed.wrappedKeys[0]!, crypto.sealPin(pin, carrierPem), pinForTerminal),
  );
  if (terminal) {
    await submitAndSettle(carrier, "update_release", id, ledger.update(id, sealed.sealedData, [terminal.address], [sealed.wrappedKeys[1]!]));
  }
  await net.settle(`release ${id} in the carrier's cache`, () => carrier.ctx.store.findRelease(id.toLowerCase()));
  if (opts.terminal) {
    const t = opts.terminal;
    await net.settle(`release ${id} in the terminal's cache`, () => t.ctx.store.findRelease(id.toLowerCase()));
  }
  return { id, pin, data };
}

/** The carrier deletes the release (final) and waits until it is submitted and confirmed. */
export async function deleteRelease(carrier: Gateway, id: string): Promise<void> {
  await submitAndSettle(carrier, "delete_release", id, chainOf(carrier).ledger.remove(id));
}

/** PUT /releases/{id}/transfer from `from` to `to`'s organisation, over REST. */
export function transferTo(from: Gateway, id: string, to: Gateway, headers: Record<string, string> = {}): Promise<RestResponse> {
  return rest(from, "PUT", `/releases/${id}/transfer`, { address: chainOf(to).wallet.address }, headers);
}

/**
 * Transfers over REST and waits until the sender's and the recipient's caches both show the
 * recipient as the current owner. Throws unless the transfer was accepted.
 */
export async function transferAndSettle(net: TestNetwork, from: Gateway, id: string, to: Gateway): Promise<void> {
  const res = await transferTo(from, id, to);
  if (res.status !== 202) throw new Error(`transfer refused: ${res.status} ${JSON.stringify(res.body)}`);
  const owner = chainOf(to).wallet.address.toLowerCase();
  const ownedBy = (gw: Gateway) => {
    const r = gw.ctx.store.findRelease(id.toLowerCase());
    return r !== undefined && r.owners[r.owners.length - 1] === owner;
  };
  await net.settle(`${owner} owns ${id} on both sides`, () => (ownedBy(from) && ownedBy(to) ? true : undefined));
}

/** Waits until every given gateway's cache satisfies `test` for the release. */
export function settleRelease(net: TestNetwork, id: string, gateways: Gateway[], what: string, test: (r: ReleaseRecord) => boolean): Promise<true> {
  return net.settle(what, () => {
    const ok = gateways.every((gw) => {
      const r = gw.ctx.store.findRelease(id.toLowerCase());
      return r !== undefined && test(r);
    });
    return ok ? true : undefined;
  });
}
