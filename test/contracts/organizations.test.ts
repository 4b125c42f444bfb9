import { ZeroAddress } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role, deployAll } from "../../src/adapters/chain/evm/contracts.js";
import { type ScrClient, type TestAnvil, scrClient, startTestAnvil } from "../support/anvil.js";

const PEM = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq...\n-----END PUBLIC KEY-----\n";

let chain: TestAnvil;
let scr: ScrClient;

beforeAll(async () => {
  chain = await startTestAnvil();
  scr = scrClient(chain, await deployAll(chain.wallet(0)));
});

afterAll(async () => {
  await chain?.stop();
});

describe("OrganizationRegistry", () => {
  it("the deployer is the administrator and registers organisations", async () => {
    const admin = chain.wallet(0);
    const carrier = chain.wallet(1);
    expect(await scr.read("organizationRegistry", "admin")).toBe(admin.address);

    const receipt = await scr.send(admin, "organizationRegistry", "register", carrier.address, "Carrier NV", "BE0100000001", Role.Carrier, PEM);
    expect(scr.events(receipt, "organizationRegistry")).toEqual([
      { name: "OrganizationRegistered", args: { account: carrier.address, vat: "BE0100000001", role: BigInt(Role.Carrier) } },
    ]);

    const org = await scr.read("organizationRegistry", "getOrganization", carrier.address);
    expect(org.name).toBe("Carrier NV");
    expect(org.vat).toBe("BE0100000001");
    expect(Number(org.role)).toBe(Role.Carrier);
    expect(org.publicKey).toBe(PEM);
    expect(org.registered).toBe(true);
    expect(await scr.read("organizationRegistry", "accountByVat", "BE0100000001")).toBe(carrier.address);
    expect(await scr.read("organizationRegistry", "isRegistered", carrier.address)).toBe(true);
    expect(Number(await scr.read("organizationRegistry", "roleOf", carrier.address))).toBe(Role.Carrier);
    expect(await scr.read("organizationRegistry", "organizationCount")).toBe(1n);
    expect(await scr.read("organizationRegistry", "organizationAt", 0)).toBe(carrier.address);

    const unknown = chain.wallet(9).address;
    expect(await scr.read("organizationRegistry", "isRegistered", unknown)).toBe(false);
    expect(await scr.read("organizationRegistry", "accountByVat", "NL000")).toBe(ZeroAddress);
    expect((await scr.read("organizationRegistry", "getOrganization", unknown)).registered).toBe(false);
  });

  it("only the administrator registers", async () => {
    const err = await scr.reverts(chain.wallet(1), "organizationRegistry", "register", chain.wallet(2).address, "X", "BE0200000002", Role.Forwarder, PEM);
    expect(err.name).toBe("NotAdmin");
    expect(err.args.caller).toBe(chain.wallet(1).address);
    expect(err.message).toMatch(/only the registry administrator/);
  });

  it("refuses a duplicate account, a duplicate VAT, role None, an empty VAT or name, the zero address", async () => {
    const admin = chain.wallet(0);
    const carrier = chain.wallet(1).address;
    const other = chain.wallet(2).address;

    let err = await scr.reverts(admin, "organizationRegistry", "register", carrier, "Again", "BE0999999999", Role.Carrier, PEM);
    expect(err.name).toBe("AccountAlreadyRegistered");
    expect(err.args.account).toBe(carrier);

    err = await scr.reverts(admin, "organizationRegistry", "register", other, "Copy", "BE0100000001", Role.Forwarder, PEM);
    expect(err.name).toBe("VatAlreadyRegistered");
    expect(err.args).toEqual({ vat: "BE0100000001", account: carrier });
    expect(err.message).toBe(`VAT number BE0100000001 is already registered to ${carrier}`);

    err = await scr.reverts(admin, "organizationRegistry", "register", other, "No role", "BE0200000002", Role.None, PEM);
    expect(err.name).toBe("InvalidRole");

    err = await scr.reverts(admin, "organizationRegistry", "register", other, "No VAT", "", Role.Forwarder, PEM);
    expect(err.name).toBe("EmptyVat");

    err = await scr.reverts(admin, "organizationRegistry", "register", other, "", "BE0200000002", Role.Forwarder, PEM);
    expect(err.name).toBe("EmptyName");

    err = await scr.reverts(admin, "organizationRegistry", "register", ZeroAddress, "Zero", "BE0200000002", Role.Forwarder, PEM);
    expect(err.name).toBe("ZeroAddress");
  });

  it("the administrator updates an organisation, including its VAT and role", async () => {
    const admin = chain.wallet(0);
    const org = chain.wallet(2).address;
    await scr.send(admin, "organizationRegistry", "register", org, "Forwarder BV", "NL0200000002", Role.Forwarder, PEM);

    const receipt = await scr.send(admin, "organizationRegistry", "update", org, "Transporter BV", "NL0200000099", Role.Transporter, "pem2");
    expect(scr.events(receipt, "organizationRegistry")).toEqual([{ name: "OrganizationUpdated", args: { account: org } }]);
    const after = await scr.read("organizationRegistry", "getOrganization", org);
    expect([after.name, after.vat, Number(after.role), after.publicKey]).toEqual(["Transporter BV", "NL0200000099", Role.Transporter, "pem2"]);
    expect(await scr.read("organizationRegistry", "accountByVat", "NL0200000099")).toBe(org);
    expect(await scr.read("organizationRegistry", "accountByVat", "NL0200000002")).toBe(ZeroAddress);

    // the old VAT is free again
    await scr.send(admin, "organizationRegistry", "register", chain.wallet(3).address, "Newcomer", "NL0200000002", Role.Forwarder, PEM);
  });

  it("update: only the administrator, only registered organisations, no VAT of another organisation", async () => {
    const admin = chain.wallet(0);
    const org = chain.wallet(2).address;
    let err = await scr.reverts(chain.wallet(2), "organizationRegistry", "update", org, "Mine", "NL0200000099", Role.Carrier, PEM);
    expect(err.name).toBe("NotAdmin");

    err = await scr.reverts(admin, "organizationRegistry", "update", chain.wallet(8).address, "Ghost", "XX1", Role.Carrier, PEM);
    expect(err.name).toBe("OrganizationNotRegistered");
    expect(err.args.account).toBe(chain.wallet(8).address);

    err = await scr.reverts(admin, "organizationRegistry", "update", org, "Thief", "BE0100000001", Role.Transporter, PEM);
    expect(err.name).toBe("VatAlreadyRegistered");
  });

  it("an organisation sets its own encryption key; an unregistered account cannot", async () => {
    const org = chain.wallet(1);
    const receipt = await scr.send(org, "organizationRegistry", "setEncryptionKey", "new-pem");
    expect(scr.events(receipt, "organizationRegistry")).toEqual([{ name: "OrganizationUpdated", args: { account: org.address } }]);
    expect((await scr.read("organizationRegistry", "getOrganization", org.address)).publicKey).toBe("new-pem");

    const err = await scr.reverts(chain.wallet(8), "organizationRegistry", "setEncryptionKey", "pem");
    expect(err.name).toBe("OrganizationNotRegistered");
  });

  it("transferAdmin hands over the administrator role", async () => {
    const admin = chain.wallet(0);
    const next = chain.wallet(7);
    let err = await scr.reverts(next, "organizationRegistry", "transferAdmin", next.address);
    expect(err.name).toBe("NotAdmin");
    err = await scr.reverts(admin, "organizationRegistry", "transferAdmin", ZeroAddress);
    expect(err.name).toBe("ZeroAddress");

    const receipt = await scr.send(admin, "organizationRegistry", "transferAdmin", next.address);
    expect(scr.events(receipt, "organizationRegistry")).toEqual([
      { name: "AdminTransferred", args: { previousAdmin: admin.address, newAdmin: next.address } },
    ]);
    expect(await scr.read("organizationRegistry", "admin")).toBe(next.address);

    err = await scr.reverts(admin, "organizationRegistry", "register", chain.wallet(6).address, "Late", "DE06", Role.Terminal, PEM);
    expect(err.name).toBe("NotAdmin");
    await scr.send(next, "organizationRegistry", "register", chain.wallet(6).address, "Terminal AG", "DE06", Role.Terminal, PEM);
  });
});
