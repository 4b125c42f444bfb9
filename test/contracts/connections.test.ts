import { ZeroHash, hexlify, randomBytes } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvitationStatus, Role, deployAll } from "../../src/adapters/chain/evm/contracts.js";
import { type ScrClient, type TestAnvil, scrClient, startTestAnvil } from "../support/anvil.js";

let chain: TestAnvil;
let scr: ScrClient;

const newId = (): string => hexlify(randomBytes(32));
const w = (i: number) => chain.wallet(i);

// accounts: 0 admin, 1 carrier, 2 forwarder, 3 transporter, 4 terminal, 5 forwarder (late), 8 never registered
const VAT = { carrier: "BE0001", forwarder: "NL0002", transporter: "BE0003", terminal: "BE0004", late: "FR0005" };

beforeAll(async () => {
  chain = await startTestAnvil();
  scr = scrClient(chain, await deployAll(w(0)));
  const register: [number, string, string, number][] = [
    [1, "Carrier NV", VAT.carrier, Role.Carrier],
    [2, "Forwarder BV", VAT.forwarder, Role.Forwarder],
    [3, "Transporter NV", VAT.transporter, Role.Transporter],
    [4, "Terminal NV", VAT.terminal, Role.Terminal],
  ];
  for (const [i, name, vat, role] of register) {
    await scr.send(w(0), "organizationRegistry", "register", w(i).address, name, vat, role, `pem-${i}`);
  }
});

afterAll(async () => {
  await chain?.stop();
});

describe("Connections", () => {
  it("invite + accept connects both ways", async () => {
    const id = newId();
    let receipt = await scr.send(w(1), "connections", "invite", id, VAT.forwarder, "Forwarder BV", "ops@forwarder.example");
    expect(scr.events(receipt, "connections")).toEqual([
      { name: "InvitationCreated", args: { id, inviter: w(1).address, vat: VAT.forwarder } },
    ]);
    let inv = await scr.read("connections", "getInvitation", id);
    expect(inv.inviter).toBe(w(1).address);
    expect(Number(inv.status)).toBe(InvitationStatus.Pending);
    expect([inv.vat, inv.name, inv.contactEmail]).toEqual([VAT.forwarder, "Forwarder BV", "ops@forwarder.example"]);
    expect(await scr.read("connections", "pendingInvitation", w(1).address, VAT.forwarder)).toBe(id);
    expect(await scr.read("connections", "isConnected", w(1).address, w(2).address)).toBe(false);

    receipt = await scr.send(w(2), "connections", "accept", id);
    expect(scr.events(receipt, "connections")).toEqual([
      { name: "InvitationAccepted", args: { id, inviter: w(1).address, invitee: w(2).address } },
    ]);
    expect(await scr.read("connections", "isConnected", w(1).address, w(2).address)).toBe(true);
    expect(await scr.read("connections", "isConnected", w(2).address, w(1).address)).toBe(true);
    expect([...(await scr.read("connections", "connectionsOf", w(1).address))]).toEqual([w(2).address]);
    expect([...(await scr.read("connections", "connectionsOf", w(2).address))]).toEqual([w(1).address]);
    inv = await scr.read("connections", "getInvitation", id);
    expect(Number(inv.status)).toBe(InvitationStatus.Accepted);
    expect(inv.invitee).toBe(w(2).address);
    expect(inv.answeredAt).toBeGreaterThan(0n);
    expect(await scr.read("connections", "pendingInvitation", w(1).address, VAT.forwarder)).toBe(ZeroHash);
  });

  it("invite + refuse leaves them unconnected, and a new invitation is possible afterwards", async () => {
    const id = newId();
    await scr.send(w(2), "connections", "invite", id, VAT.terminal, "Terminal NV", "gate@terminal.example");
    const receipt = await scr.send(w(4), "connections", "refuse", id);
    expect(scr.events(receipt, "connections")).toEqual([
      { name: "InvitationRefused", args: { id, inviter: w(2).address, invitee: w(4).address } },
    ]);
    expect(Number((await scr.read("connections", "getInvitation", id)).status)).toBe(InvitationStatus.Refused);
    expect(await scr.read("connections", "isConnected", w(2).address, w(4).address)).toBe(false);

    // answered invitations are closed
    let err = await scr.reverts(w(4), "connections", "accept", id);
    expect(err.name).toBe("InvitationNotPending");
    expect(err.args).toEqual({ id, status: BigInt(InvitationStatus.Refused) });
    err = await scr.reverts(w(4), "connections", "refuse", id);
    expect(err.name).toBe("InvitationNotPending");

    await scr.send(w(2), "connections", "invite", newId(), VAT.terminal, "Terminal NV", "gate@terminal.example");
  });

  it("only a registered organisation invites", async () => {
    const err = await scr.reverts(w(8), "connections", "invite", newId(), VAT.carrier, "Carrier NV", "x@y.z");
    expect(err.name).toBe("InviterNotRegistered");
    expect(err.args.caller).toBe(w(8).address);
  });

  it("an organisation cannot invite its own VAT", async () => {
    const err = await scr.reverts(w(1), "connections", "invite", newId(), VAT.carrier, "Me", "me@carrier.example");
    expect(err.name).toBe("CannotInviteSelf");
    expect(err.message).toBe(`an organisation cannot invite itself (VAT ${VAT.carrier})`);
  });

  it("one open invitation per inviter and VAT", async () => {
    const first = newId();
    await scr.send(w(3), "connections", "invite", first, VAT.terminal, "Terminal NV", "gate@terminal.example");
    const err = await scr.reverts(w(3), "connections", "invite", newId(), VAT.terminal, "Terminal NV", "gate@terminal.example");
    expect(err.name).toBe("InvitationAlreadyPending");
    expect(err.args).toEqual({ pendingId: first, vat: VAT.terminal });
    // another inviter may invite the same VAT
    await scr.send(w(1), "connections", "invite", newId(), VAT.terminal, "Terminal NV", "gate@terminal.example");
  });

  it("no invitation between organisations that are already connected", async () => {
    const err = await scr.reverts(w(2), "connections", "invite", newId(), VAT.carrier, "Carrier NV", "x@carrier.example");
    expect(err.name).toBe("AlreadyConnected");
    expect(err.args).toEqual({ a: w(2).address, b: w(1).address });
  });

  it("invitation ids are non-zero and never reused; the VAT is required", async () => {
    const id = newId();
    await scr.send(w(1), "connections", "invite", id, VAT.transporter, "Transporter NV", "t@t.example");
    let err = await scr.reverts(w(2), "connections", "invite", id, VAT.transporter, "Transporter NV", "t@t.example");
    expect(err.name).toBe("InvitationIdTaken");
    expect(err.args.id).toBe(id);
    err = await scr.reverts(w(2), "connections", "invite", ZeroHash, VAT.transporter, "Transporter NV", "t@t.example");
    expect(err.name).toBe("InvalidInvitationId");
    err = await scr.reverts(w(2), "connections", "invite", newId(), "", "Nobody", "t@t.example");
    expect(err.name).toBe("EmptyVat");
  });

  it("only the organisation with the invited VAT answers, and only existing invitations", async () => {
    const id = newId();
    await scr.send(w(2), "connections", "invite", id, VAT.transporter, "Transporter NV", "t@t.example");
    let err = await scr.reverts(w(4), "connections", "accept", id);
    expect(err.name).toBe("NotInvitee");
    expect(err.args).toEqual({ id, caller: w(4).address });
    err = await scr.reverts(w(2), "connections", "accept", id); // the inviter itself
    expect(err.name).toBe("NotInvitee");
    err = await scr.reverts(w(4), "connections", "refuse", id);
    expect(err.name).toBe("NotInvitee");
    const unknown = newId();
    err = await scr.reverts(w(3), "connections", "accept", unknown);
    expect(err.name).toBe("InvitationNotFound");
    expect(err.args.id).toBe(unknown);

    await scr.send(w(3), "connections", "accept", id);
    expect(await scr.read("connections", "isConnected", w(3).address, w(2).address)).toBe(true);
  });

  it("an invitation to an unregistered VAT becomes acceptable once that organisation registers", async () => {
    const id = newId();
    const late = w(5);
    await scr.send(w(1), "connections", "invite", id, VAT.late, "Late SARL", "hello@late.example");

    let err = await scr.reverts(late, "connections", "accept", id);
    expect(err.name).toBe("NotInvitee");
    err = await scr.reverts(w(8), "connections", "accept", id);
    expect(err.name).toBe("NotInvitee");

    await scr.send(w(0), "organizationRegistry", "register", late.address, "Late SARL", VAT.late, Role.Forwarder, "pem-5");
    const receipt = await scr.send(late, "connections", "accept", id);
    expect(scr.events(receipt, "connections")[0]).toEqual({
      name: "InvitationAccepted",
      args: { id, inviter: w(1).address, invitee: late.address },
    });
    expect(await scr.read("connections", "isConnected", late.address, w(1).address)).toBe(true);
  });

  it("crossed invitations: accepting the second one closes it without changing the connection", async () => {
    const a = newId();
    const b = newId();
    await scr.send(w(4), "connections", "invite", a, VAT.late, "Late SARL", "hello@late.example");
    await scr.send(w(5), "connections", "invite", b, VAT.terminal, "Terminal NV", "gate@terminal.example");
    await scr.send(w(5), "connections", "accept", a);
    await scr.send(w(4), "connections", "accept", b);
    expect(Number((await scr.read("connections", "getInvitation", b)).status)).toBe(InvitationStatus.Accepted);
    expect(await scr.read("connections", "isConnected", w(4).address, w(5).address)).toBe(true);
    expect([...(await scr.read("connections", "connectionsOf", w(5).address))]).toEqual([w(1).address, w(4).address]);
  });
});
