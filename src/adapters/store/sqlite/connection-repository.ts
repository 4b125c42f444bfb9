import { and, desc, eq, sql } from "drizzle-orm";
import type { Db } from "./open.js";
import { connections, invitations, organizations } from "./schema.js";
import type {
  ConnectionRecord,
  ConnectionStore,
  InvitationDirectionWord,
  InvitationRecord,
  InvitationStatusWord,
} from "../../../ports/connections.js";

export type { ConnectionRecord, InvitationDirectionWord, InvitationRecord, InvitationStatusWord };

/** The `invitations` and `connections` tables, on the store's connection (and transactions). */
export class ConnectionRepository implements ConnectionStore {
  constructor(private readonly db: Db) {}

  findInvitation(id: string): InvitationRecord | undefined {
    const row = this.db.select().from(invitations).where(eq(invitations.id, id.toLowerCase())).get();
    return row as InvitationRecord | undefined;
  }

  /**
   * Inserts or updates an invitation. The chain's view never erases what only this side knows:
   * an existing `reference` and `direction` are kept when the new row has none.
   */
  upsertInvitation(r: InvitationRecord): void {
    this.db
      .insert(invitations)
      .values({ ...r, id: r.id.toLowerCase() })
      .onConflictDoUpdate({
        target: invitations.id,
        set: {
          inviter: r.inviter,
          invitee: sql`coalesce(${r.invitee}, ${invitations.invitee})`,
          vat: r.vat,
          name: r.name,
          contactEmail: r.contactEmail,
          status: r.status,
          reference: sql`coalesce(${invitations.reference}, ${r.reference})`,
          updatedAt: r.updatedAt,
        },
      })
      .run();
  }

  listInvitations(filter: { direction?: InvitationDirectionWord; status?: InvitationStatusWord } = {}): InvitationRecord[] {
    const where = and(
      filter.direction ? eq(invitations.direction, filter.direction) : undefined,
      filter.status ? eq(invitations.status, filter.status) : undefined,
    );
    return this.db
      .select()
      .from(invitations)
      .where(where)
      .orderBy(desc(invitations.createdAt), desc(invitations.id))
      .all() as InvitationRecord[];
  }

  /** The open outgoing invitation to this VAT, if any. */
  pendingOutgoingTo(vat: string): InvitationRecord | undefined {
    return this.db
      .select()
      .from(invitations)
      .where(and(eq(invitations.vat, vat), eq(invitations.direction, "outgoing"), eq(invitations.status, "pending")))
      .get() as InvitationRecord | undefined;
  }

  deleteInvitation(id: string): void {
    this.db.delete(invitations).where(eq(invitations.id, id.toLowerCase())).run();
  }

  deleteConnection(address: string): void {
    this.db.delete(connections).where(eq(connections.address, address.toLowerCase())).run();
  }

  /** Records a connection; a reference already recorded is kept. */
  upsertConnection(address: string, reference: string | null): void {
    this.db
      .insert(connections)
      .values({ address: address.toLowerCase(), reference })
      .onConflictDoUpdate({ target: connections.address, set: { reference: sql`coalesce(${connections.reference}, ${reference})` } })
      .run();
  }

  isConnected(address: string): boolean {
    return !!this.db.select({ a: connections.address }).from(connections).where(eq(connections.address, address.toLowerCase())).get();
  }

  /** Connections with the organisation's registry data (empty strings when not cached). */
  listConnections(): ConnectionRecord[] {
    return this.db
      .select({
        address: connections.address,
        reference: connections.reference,
        name: sql<string>`coalesce(${organizations.name}, '')`,
        vat: sql<string>`coalesce(${organizations.vat}, '')`,
        publicKey: sql<string>`coalesce(${organizations.publicKey}, '')`,
      })
      .from(connections)
      .leftJoin(organizations, eq(organizations.address, connections.address))
      .orderBy(connections.address)
      .all();
  }

  /** The registered organisation with this VAT, from the local cache. */
  organizationByVat(vat: string): { address: string; name: string; vat: string } | undefined {
    return this.db
      .select({ address: organizations.address, name: organizations.name, vat: organizations.vat })
      .from(organizations)
      // VATs are compared as normalizeVat spells them: no spaces or dots, upper case.
      .where(sql`upper(replace(replace(${organizations.vat}, ' ', ''), '.', '')) = ${vat}`)
      .get();
  }
}
