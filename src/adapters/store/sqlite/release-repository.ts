import { and, asc, eq, gte, sql } from "drizzle-orm";
import type { Assignment, OrgRole, Organization, Party, ReleaseRecord } from "../../../domain/releases/model.js";
import type { ReleaseQuery } from "../../../ports/store.js";
import type { Db } from "./open.js";
import { organizations, releaseParties, releases } from "./schema.js";

type Row = typeof releases.$inferSelect;

/** The stored data with its two dates revived (a JSON.parse reviver would visit every key). */
function parseData(json: string): ReleaseRecord["data"] {
  const data = JSON.parse(json) as ReleaseRecord["data"];
  const c = data.container as { validFrom: unknown; validUntil: unknown };
  c.validFrom = typeof c.validFrom === "string" ? new Date(c.validFrom) : null;
  c.validUntil = typeof c.validUntil === "string" ? new Date(c.validUntil) : null;
  return data;
}

function toRecord(row: Row): ReleaseRecord {
  return {
    address: row.address,
    creator: row.creator,
    owners: JSON.parse(row.owners) as string[],
    terminal: row.terminal,
    data: parseData(row.data),
    encryptedPin: row.encryptedPin,
    deleted: row.deleted,
    blocked: row.blocked,
    pinRetrieved: row.pinRetrieved,
    gateOut: row.gateOut === null ? null : new Date(row.gateOut),
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
    version: row.version,
    greenLights: JSON.parse(row.greenLights) as ReleaseRecord["greenLights"],
    wrappedKey: row.wrappedKey,
    assignment: row.assignment === null ? null : (JSON.parse(row.assignment) as Assignment),
  };
}

function toRow(r: ReleaseRecord): Omit<Row, "revision"> {
  const owners = r.owners.map((o) => o.toLowerCase());
  return {
    address: r.address.toLowerCase(),
    creator: r.creator.toLowerCase(),
    owner: owners[owners.length - 1] ?? r.creator.toLowerCase(),
    owners: JSON.stringify(owners),
    terminal: r.terminal?.toLowerCase() ?? null,
    data: JSON.stringify(r.data),
    blNumber: r.data.billOfLading.blNumber,
    containerNumber: r.data.container.containerNumber,
    encryptedPin: r.encryptedPin,
    deleted: r.deleted,
    blocked: r.blocked,
    pinRetrieved: r.pinRetrieved,
    gateOut: r.gateOut?.getTime() ?? null,
    createdAt: r.createdAt.getTime(),
    updatedAt: r.updatedAt.getTime(),
    version: r.version,
    greenLights: JSON.stringify(r.greenLights),
    wrappedKey: r.wrappedKey,
    assignment: r.assignment === null ? null : JSON.stringify(r.assignment),
  };
}

/** Parsed records kept for unchanged rows; a few pages' worth of the busiest releases. */
const RECORD_CACHE_SIZE = 20_000;

/** Releases and organisations over drizzle; the hot read paths are prepared once. */
export class ReleaseRepository {
  private readonly byAddress;
  private readonly orgByAddress;
  private readonly partyByAddress;
  private readonly listStatements = new Map<string, { all(params: Record<string, unknown>): Row[] }>();
  /**
   * Records already parsed from their row, by address, with the row's revision: a page of
   * releases that did not change since the last read costs no JSON parsing, and readers that
   * memoise on the record's identity (views, renderings) keep their work. Records are shared:
   * never mutate one.
   */
  private readonly records = new Map<string, { revision: number; record: ReleaseRecord }>();
  private orgVersion = 0;

  constructor(protected readonly db: Db) {
    this.byAddress = db
      .select()
      .from(releases)
      .where(eq(releases.address, sql.placeholder("address")))
      .prepare();
    this.orgByAddress = db
      .select({ address: organizations.address, name: organizations.name, vat: organizations.vat })
      .from(organizations)
      .where(eq(organizations.address, sql.placeholder("address")))
      .prepare();
    this.partyByAddress = db
      .select({
        address: organizations.address,
        name: organizations.name,
        vat: organizations.vat,
        role: organizations.role,
        publicKey: organizations.publicKey,
      })
      .from(organizations)
      .where(eq(organizations.address, sql.placeholder("address")))
      .prepare();
  }

  findRelease(address: string): ReleaseRecord | undefined {
    const row = this.byAddress.get({ address: address.toLowerCase() });
    return row ? this.recordOf(row) : undefined;
  }

  /**
   * Visibility is an EXISTS on release_parties, so SQLite walks `releases_order` in order and
   * stops after one page instead of sorting every visible row. One prepared statement per
   * combination of filters, built on first use.
   */
  listReleases(q: ReleaseQuery): ReleaseRecord[] {
    const key = `${q.bl ? "b" : ""}${q.container ? "c" : ""}${q.since ? "s" : ""}${q.limit > 0 ? "l" : ""}`;
    let stmt = this.listStatements.get(key);
    if (!stmt) {
      const conditions = [
        sql`exists (select 1 from ${releaseParties} where ${releaseParties.release} = ${releases.address} and ${releaseParties.party} = ${sql.placeholder("party")})`,
      ];
      if (q.bl) conditions.push(eq(releases.blNumber, sql.placeholder("bl")));
      if (q.container) conditions.push(eq(releases.containerNumber, sql.placeholder("container")));
      if (q.since) conditions.push(gte(releases.updatedAt, sql.placeholder("since")));
      const base = this.db
        .select()
        .from(releases)
        .where(and(...conditions))
        .orderBy(asc(releases.createdAt), asc(releases.address));
      stmt = (q.limit > 0 ? base.limit(sql.placeholder("limit")).offset(sql.placeholder("offset")) : base).prepare();
      this.listStatements.set(key, stmt);
    }
    const rows = stmt.all({
      party: q.visibleTo.toLowerCase(),
      bl: q.bl,
      container: q.container,
      since: q.since?.getTime(),
      limit: q.limit,
      offset: (q.page - 1) * q.limit,
    });
    return rows.map((row) => this.recordOf(row));
  }

  private recordOf(row: Row): ReleaseRecord {
    const hit = this.records.get(row.address);
    if (hit && hit.revision === row.revision) return hit.record;
    const record = toRecord(row);
    if (!hit && this.records.size >= RECORD_CACHE_SIZE) {
      const oldest = this.records.keys().next().value;
      if (oldest !== undefined) this.records.delete(oldest);
    }
    this.records.set(row.address, { revision: row.revision, record });
    return record;
  }

  upsertRelease(release: ReleaseRecord): void {
    const row = toRow(release);
    const parties = new Set([...(JSON.parse(row.owners) as string[]), ...(row.terminal ? [row.terminal] : [])]);
    this.db.transaction((tx) => {
      tx.insert(releases)
        .values(row)
        .onConflictDoUpdate({ target: releases.address, set: { ...row, revision: sql`${releases.revision} + 1` } })
        .run();
      tx.delete(releaseParties).where(eq(releaseParties.release, row.address)).run();
      for (const party of parties) tx.insert(releaseParties).values({ release: row.address, party }).run();
    });
  }

  findOrganization(address: string): Organization | undefined {
    return this.orgByAddress.get({ address: address.toLowerCase() });
  }

  findParty(address: string): Party | undefined {
    const row = this.partyByAddress.get({ address: address.toLowerCase() });
    return row ? { ...row, role: row.role as OrgRole } : undefined;
  }

  /** Moves whenever an organisation is written or removed: views naming parties follow it. */
  organizationsVersion(): number {
    return this.orgVersion;
  }

  /** For writers of the organizations table outside this class. */
  protected organizationsChanged(): void {
    this.orgVersion++;
  }

  upsertOrganization(org: Organization & { role?: string; publicKey?: string }): void {
    this.orgVersion++;
    const row = {
      address: org.address.toLowerCase(),
      name: org.name,
      vat: org.vat,
      role: org.role ?? "",
      publicKey: org.publicKey ?? "",
      updatedAt: Date.now(),
    };
    this.db.insert(organizations).values(row).onConflictDoUpdate({ target: organizations.address, set: row }).run();
  }
}
