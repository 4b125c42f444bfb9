/**
 * Two gateways on one local chain: invitations and connections end to end, over REST and gRPC.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { getAddress, hexlify, randomBytes } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role, interfaces } from "../../src/adapters/chain/evm/contracts.js";
import type { Gateway } from "../../src/main.js";
import type { SqliteStore } from "../../src/adapters/store/sqlite/store.js";
import { ConnectionService, InvitationDirection, InvitationStatus } from "../../gen/scr/v1/connection_service_pb.js";
import { BASE, rest, startNetwork, until, type TestNetwork } from "../support/network.js";

const A_VAT = "BE0000000101";
const B_VAT = "NL000000102B01";
const C_VAT = "DE000000103";

let net: TestNetwork;
let a: Gateway;
let b: Gateway;
let c: Gateway;

const settle: TestNetwork["settle"] = (what, fn) => net.settle(what, fn);

beforeAll(async () => {
  net = await startNetwork();
  a = await net.join("Forwarder A", A_VAT, Role.Forwarder);
  b = await net.join("Transporter B", B_VAT, Role.Transporter);
  c = await net.join("Transporter C", C_VAT, Role.Transporter);
}, 120_000);

afterAll(async () => {
  await net?.stop();
});

describe("connections between two gateways", () => {
  it("A invites B with a reference, B accepts, and both list the connection", async () => {
    const created = await rest(a, "POST", "/invitations", {
      reference: "CUST-42",
      name: "Transporter B",
      vat: "nl 0000.00102B01",
      contactEmail: "ops@b.example",
    });
    expect(created.status).toBe(200);
    expect(created.headers.get("operation-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.body).not.toHaveProperty("operationId");
    expect(created.body).toMatchObject({
      reference: "CUST-42",
      vat: B_VAT,
      status: "pending",
      direction: "outgoing",
      inviter: getAddress(a.ctx.chain!.wallet.address),
      inviterName: "Forwarder A",
    });
    const id = created.body.id as string;
    expect(id).toMatch(/^0x[0-9a-f]{64}$/);

    // B sees it over gRPC once the invitation is mined and indexed.
    const client = createClient(ConnectionService, createGrpcTransport({ baseUrl: b.url }));
    const incoming = await settle("B's incoming invitation", async () => {
      const res = await client.listInvitations({ direction: InvitationDirection.INCOMING });
      return res.invitations.find((i) => i.id === id);
    });
    expect(incoming).toMatchObject({ vat: B_VAT, status: InvitationStatus.PENDING, inviterVat: A_VAT, name: "Transporter B" });
    expect(incoming.reference).toBeUndefined();

    const accepted = await rest(b, "PUT", `/invitations/${id}/accept`);
    expect(accepted.status).toBeLessThan(300);
    // The invitation as it stands, and where to follow the write.
    expect(accepted.body).toMatchObject({ id, direction: "incoming", status: "pending" });
    const acceptOp = accepted.headers.get("operation-id");
    expect(accepted.headers.get("location")).toBe(`${BASE}/operations/${acceptOp}`);
    await settle("the accept operation confirmed", async () => {
      const op = await rest(b, "GET", `/operations/${acceptOp}`);
      return op.body?.state === "confirmed" ? true : undefined;
    });

    const aConnections = await settle("A's connection", async () => {
      const res = await rest(a, "GET", "/connections");
      return res.body.length > 0 ? res.body : undefined;
    });
    expect(aConnections).toEqual([
      {
        reference: "CUST-42",
        name: "Transporter B",
        vat: B_VAT,
        address: getAddress(b.ctx.chain!.wallet.address),
        publicKey: b.ctx.chain!.wallet.encryptionPublicKeyPem,
      },
    ]);
    const bConnections = await settle("B's connection", async () => {
      const res = await rest(b, "GET", "/connections");
      return res.body.length > 0 ? res.body : undefined;
    });
    expect(bConnections).toEqual([
      {
        reference: null,
        name: "Forwarder A",
        vat: A_VAT,
        address: getAddress(a.ctx.chain!.wallet.address),
        publicKey: a.ctx.chain!.wallet.encryptionPublicKeyPem,
      },
    ]);

    // Both sides record the invitation as accepted.
    await settle("accepted on both sides", async () => {
      const out = (await rest(a, "GET", "/invitations?status=accepted")).body as { id: string }[];
      const inc = (await rest(b, "GET", "/invitations?direction=incoming&status=accepted")).body as { id: string }[];
      return out.some((i) => i.id === id) && inc.some((i) => i.id === id) ? true : undefined;
    });

    // Inviting an organisation already connected: 409.
    const again = await rest(a, "POST", "/invitations", { name: "B", vat: B_VAT, contactEmail: "ops@b.example" });
    expect(again.status).toBe(409);

    // Answering again: the invitation is no longer pending.
    const twice = await rest(b, "PUT", `/invitations/${id}/refuse`);
    expect(twice.status).toBe(409);
    expect(twice.body.description).toContain("already accepted");
  });

  it("C refuses A's invitation; a second invitation to the same VAT while pending is 409", async () => {
    const created = await rest(a, "POST", "/invitations", { name: "Transporter C", vat: C_VAT, contactEmail: "ops@c.example" });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ reference: null, status: "pending" });
    const id = created.body.id as string;

    const dup = await rest(a, "POST", "/invitations", { name: "C again", vat: C_VAT, contactEmail: "x@c.example" });
    expect(dup.status).toBe(409);

    await settle("C's incoming invitation", async () => {
      const list = (await rest(c, "GET", "/invitations?direction=incoming&status=pending")).body as { id: string }[];
      return list.find((i) => i.id === id);
    });
    // Only the invitee can answer: A cannot accept its own outgoing invitation.
    expect((await rest(a, "PUT", `/invitations/${id}/accept`)).status).toBe(404);

    const refused = await rest(c, "PUT", `/invitations/${id}/refuse`);
    expect(refused.status).toBeLessThan(300);
    await settle("refused on A's side", async () => {
      const list = (await rest(a, "GET", "/invitations?direction=outgoing&status=refused")).body as { id: string }[];
      return list.find((i) => i.id === id);
    });
    expect((await rest(c, "GET", "/connections")).body).toEqual([]);
    expect(((await rest(a, "GET", "/connections")).body as { vat: string }[]).map((x) => x.vat)).toEqual([B_VAT]);
  });

  it("an invitation to a VAT not registered yet awaits registration, and is fulfilled once it registers", async () => {
    const d = await net.startUnregistered();
    // Unregistered, the organisation-specific calls refuse with a clear message.
    const early = await rest(d, "GET", "/connections");
    expect(early.status).toBe(409);
    expect(early.body.description).toContain("not registered");

    const created = await rest(a, "POST", "/invitations", { reference: "NEW-1", name: "Newcomer", vat: "FR 12345678901", contactEmail: "hi@new.example" });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ status: "awaitingRegistration", invitee: null, vat: "FR12345678901" });
    const id = created.body.id as string;
    // Mined and indexed by d's indexer while d is still unregistered.
    await settle("the invitation on chain", async () => {
      const list = (await rest(a, "GET", "/invitations?direction=outgoing")).body as { id: string; updatedAt: string }[];
      return list.find((i) => i.id === id);
    });
    await until("d indexed the invitation event", () => ((d.ctx.store as SqliteStore).indexer.eventsNamed("connections", "InvitationCreated").some((e) => e.subject === id) ? true : undefined));

    // The newcomer registers (its VAT spelled differently); the old invitation reaches it.
    await net.register(d, "Newcomer SAS", "FR12345678901", Role.Transporter);
    const incoming = await settle("the waiting invitation reaches the newcomer", async () => {
      const list = (await rest(d, "GET", "/invitations?direction=incoming&status=pending")).body as { id: string }[];
      return list.find((i) => i.id === id);
    });
    expect(incoming).toMatchObject({ id, inviterVat: A_VAT, reference: null });
    expect((await rest(a, "GET", "/invitations?status=pending")).body.find((i: { id: string }) => i.id === id)).toMatchObject({
      status: "pending",
      invitee: getAddress(d.ctx.chain!.wallet.address),
    });

    expect((await rest(d, "PUT", `/invitations/${id}/accept`)).status).toBeLessThan(300);
    const seen = await settle("A connected with the newcomer", async () => {
      const list = (await rest(a, "GET", "/connections")).body as { vat: string; reference: string | null }[];
      return list.find((x) => x.vat === "FR12345678901");
    });
    expect(seen.reference).toBe("NEW-1");
  });

  it("refuses bad input with 400 naming the field", async () => {
    const ok = { reference: "r", name: "Somebody", vat: "BE0999999999", contactEmail: "a@b.example" };
    const self = await rest(a, "POST", "/invitations", { ...ok, vat: A_VAT });
    expect(self.status).toBe(400);
    expect(self.body.description).toMatch(/\bvat\b/);

    for (const field of ["name", "vat", "contactEmail"] as const) {
      const missing = await rest(a, "POST", "/invitations", { ...ok, [field]: "" });
      expect(missing.status, field).toBe(400);
      expect(missing.body.description, field).toContain(field);
    }
    for (const field of ["reference", "name", "vat", "contactEmail"] as const) {
      const long = await rest(a, "POST", "/invitations", { ...ok, [field]: "x".repeat(256) });
      expect(long.status, field).toBe(400);
      expect(long.body.description, field).toContain(field);
    }
    const badVat = await rest(a, "POST", "/invitations", { ...ok, vat: "12345" });
    expect(badVat.status).toBe(400);
    expect(badVat.body.description).toContain("vat");
    const badEmail = await rest(a, "POST", "/invitations", { ...ok, contactEmail: "nobody" });
    expect(badEmail.status).toBe(400);
    expect(badEmail.body.description).toContain("contactEmail");
    const badId = await rest(b, "PUT", "/invitations/nope/accept");
    expect(badId.status).toBe(400);
  });

  it("over gRPC: the same refusals with Connect codes naming the field, and the inviter's own VAT", async () => {
    const client = createClient(ConnectionService, createGrpcTransport({ baseUrl: a.url }));
    const ok = { reference: "r", name: "Somebody", vat: "BE0999999999", contactEmail: "a@b.example" };
    const failure = async (req: typeof ok) => {
      try {
        await client.createInvitation(req);
      } catch (err) {
        return ConnectError.from(err);
      }
      throw new Error("expected a refusal");
    };
    for (const field of ["name", "vat", "contactEmail"] as const) {
      const err = await failure({ ...ok, [field]: "" });
      expect(err.code, field).toBe(Code.InvalidArgument);
      expect(err.rawMessage, field).toContain(field);
    }
    const long = await failure({ ...ok, reference: "x".repeat(256) });
    expect([long.code, long.rawMessage.includes("reference")]).toEqual([Code.InvalidArgument, true]);
    const self = await failure({ ...ok, vat: A_VAT });
    expect([self.code, self.rawMessage.includes("vat")]).toEqual([Code.InvalidArgument, true]);
    const connected = await failure({ ...ok, vat: B_VAT });
    expect(connected.code).toBe(Code.AlreadyExists);
  });

  it("an invitation the chain refuses is forgotten, so it can be sent again", async () => {
    // An invitation to E sent around this gateway's API: A's cache does not know it yet, so
    // the API accepts a second one, which the contract then refuses (already pending).
    const chain = a.ctx.chain!;
    const E_VAT = "LU12345613";
    chain.pipeline.submit({
      kind: "create_invitation",
      to: chain.addresses.connections,
      data: interfaces.connections.encodeFunctionData("invite", [hexlify(randomBytes(32)), E_VAT, "E direct", "e@e.example"]),
    });
    const second = await rest(a, "POST", "/invitations", { name: "E", vat: E_VAT, contactEmail: "e@e.example" });
    expect(second.status).toBe(200);
    const id = second.body.id as string;
    const failed = await settle("the second invitation's operation fails", () => {
      const op = a.ctx.store.operations.listOperations({ limit: 1000 }).find((o) => o.kind === "create_invitation" && o.data.includes(id.slice(2)));
      return op?.state === "failed" ? op : undefined;
    });
    expect(failed.failureReason).toMatch(/already an open invitation/i);
    await settle("the refused invitation is forgotten", async () => {
      const list = (await rest(a, "GET", "/invitations?direction=outgoing")).body as { id: string }[];
      return list.some((i) => i.id === id) ? undefined : true;
    });
  });
});

