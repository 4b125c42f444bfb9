import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Contract, HDNodeWallet, Mnemonic, getAddress, hexlify, id as keccakText, randomBytes } from "ethers";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ANVIL_MNEMONIC } from "../../src/adapters/chain/devnet/anvil.js";
import { localAdmin } from "../../src/adapters/chain/connect.js";
import { Role, interfaces, waitForReceipt } from "../../src/adapters/chain/evm/contracts.js";
import { openRelease, sealReleaseFor } from "../../src/adapters/chain/evm/release-codec.js";
import { openWith, sealFor } from "../../src/adapters/wallet/envelope.js";
import { createEphemeralWallet } from "../../src/adapters/wallet/keystore.js";
import { parseConfig } from "../../src/config/load.js";
import { startGateway, type Gateway } from "../../src/main.js";
import { specRelease, specReleaseData } from "../support/gateway.js";

let dir: string;
let gw: Gateway;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "scr-e2e-"));
  // The sandbox network has its own test (sandbox.test.ts); here the cache starts empty.
  const config = { ...parseConfig({ dataDir: dir, httpServer: { port: 0 }, chain: { anvil: { stateIntervalSeconds: 1, sandbox: false } } }), baseDir: dir, embedded: true };
  gw = await startGateway(config, pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }));
}, 120_000);
afterAll(async () => {
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("npm start on the embedded defaults", () => {
  it("runs on its own local chain as a registered organisation with an empty cache", async () => {
    const self = gw.ctx.identity.self();
    expect(self).toMatchObject({ name: "Test entity 1", vat: "BE0000000001" });
    expect(self.address.toLowerCase()).toBe(gw.ctx.chain!.wallet.address.toLowerCase());
    expect(await (await fetch(`${gw.url}/tmining/api/v1/releases`)).json()).toEqual([]);
  });

  it("a release a carrier transfers to this organisation arrives, decrypted, in GET /releases", async () => {
    const provider = gw.chain.chain.provider;
    const addresses = gw.chain.addresses;
    const self = gw.ctx.chain!.wallet;
    const admin = localAdmin(provider);
    const carrierKeys = createEphemeralWallet(); // its RSA key; it signs with an anvil account
    const carrier = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEFAULT_ANVIL_MNEMONIC), "m/44'/60'/0'/0/1").connect(provider);
    const send = async (contract: Contract, fn: string, ...args: unknown[]) =>
      waitForReceipt(provider, (await contract.getFunction(fn)(...args)).hash);

    const registry = new Contract(addresses.organizationRegistry, interfaces.organizationRegistry, admin);
    await send(registry, "register", carrier.address, "Demo Carrier NV", "BE0123456789", Role.Carrier, carrierKeys.encryptionPublicKeyPem);

    // The carrier invites this organisation; this gateway accepts through its own pipeline.
    const invitationId = keccakText(`invite-${Date.now()}`);
    await send(new Contract(addresses.connections, interfaces.connections, carrier), "invite", invitationId, "BE0000000001", "Test entity 1", "ops@example.com");
    const { operation } = gw.ctx.chain!.pipeline.submit({
      kind: "accept_invitation",
      to: addresses.connections,
      data: interfaces.connections.encodeFunctionData("accept", [invitationId]),
    });
    expect((await gw.ctx.chain!.pipeline.settled(operation.id)).state).toBe("confirmed");

    const data = { ...specReleaseData(), container: { ...specReleaseData().container, turnInLoCode: "NLRTM" } };
    const releaseId = getAddress(hexlify(randomBytes(20)));
    const sealed = sealReleaseFor(data, [carrierKeys.encryptionPublicKeyPem, self.encryptionPublicKeyPem]);
    const releases = new Contract(addresses.releaseRegistry, interfaces.releaseRegistry, carrier);
    await send(releases, "create", releaseId, "0x" + "00".repeat(20), sealed.sealedData, sealed.wrappedKeys[0], sealFor(carrierKeys.encryptionPublicKeyPem, Buffer.from("12345")), "0x");
    await send(releases, "transfer", releaseId, self.address, sealed.wrappedKeys[1], sealFor(self.encryptionPublicKeyPem, Buffer.from("12345")));

    gw.indexer.kick();
    let list: Record<string, unknown>[] = [];
    for (let i = 0; i < 100 && list.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      list = (await (await fetch(`${gw.url}/tmining/api/v1/releases`)).json()) as Record<string, unknown>[];
    }
    expect(list).toHaveLength(1);
    const r = list[0]!;
    expect(r.address).toBe(releaseId);
    expect(r.release_data).toEqual({
      ...specRelease.release_data,
      container: { ...specRelease.release_data.container, pickupLoCode: "BEANR", turnInLoCode: "NLRTM" },
    });
    expect(r.owner).toBe(getAddress(self.address));
    expect(r.creator).toBe(carrier.address);
    expect(r).toMatchObject({
      previousOwner: carrier.address,
      previousOwnerName: "Demo Carrier NV",
      previousOwnerVat: "BE0123456789",
      nextOwner: null,
      selfOwnerName: "Test entity 1",
      pinRetrieved: false,
      gateOut: null,
      conditions: [],
    });
    expect(r.encryptedPin).toMatch(/^[0-9a-f]+$/);

    // A third organisation on the same chain reads the same bytes and learns nothing.
    const onChain = await new Contract(addresses.releaseRegistry, interfaces.releaseRegistry, provider).getFunction("getRelease")(releaseId);
    const clear = (hex: string) => Buffer.from(hex.slice(2), "hex").toString("latin1");
    expect(clear(onChain.sealedData)).not.toContain("RELEASE-API-TEST-1612");
    expect(clear(onChain.sealedData)).not.toContain("CSQU32345690");
    expect(clear(onChain.encryptedPin)).not.toContain("12345");
    const third = createEphemeralWallet();
    const reader = new Contract(addresses.releaseRegistry, interfaces.releaseRegistry, provider);
    expect(await reader.getFunction("wrappedKeyOf")(releaseId, third.address)).toBe("0x");
    const ownersKey = await reader.getFunction("wrappedKeyOf")(releaseId, self.address);
    expect(() => openRelease(onChain.sealedData, ownersKey, third)).toThrow();
    expect(() => openWith(third, Buffer.from(onChain.encryptedPin.slice(2), "hex"))).toThrow();
    // …while the owner's wallet opens both.
    expect(openRelease(onChain.sealedData, ownersKey, self).container.containerNumber).toBe("CSQU32345690");
    expect(Buffer.from(openWith(self, Buffer.from(onChain.encryptedPin.slice(2), "hex"))).toString()).toBe("12345");
  });
});
