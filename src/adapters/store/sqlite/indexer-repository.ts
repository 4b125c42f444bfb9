import { and, asc, desc, eq, gt, lt, sql } from "drizzle-orm";
import type { BlockHash, IndexerCursor, IndexerStateStore } from "../../../domain/indexer/indexer.js";
import type { Db } from "./open.js";
import { chainEvents, indexedBlocks, indexerCursors, organizations, releases } from "./schema.js";

/** A decoded contract event as `chain_events` holds it. */
export interface ChainEventRecord {
  blockNumber: number;
  blockHash: string;
  logIndex: number;
  txHash: string;
  /** organizationRegistry | connections | releaseRegistry */
  contract: string;
  /** Lower-case contract address. */
  address: string;
  name: string;
  /** What the event is about, lower case: release id, account or invitation id. */
  subject: string | null;
  /** JSON, bigints as decimal strings. */
  args: string;
}

/**
 * The indexer's state in SQLite: its cursor, the hashes of recently indexed blocks, and the
 * `chain_events` log. It shares the connection (and so the transactions) of the store it was
 * made from.
 */
export class IndexerRepository implements IndexerStateStore {
  private readonly insertEventStmt;
  private readonly blockHashStmt;

  constructor(
    private readonly db: Db,
    /** Told when an organisation is removed (a reorg), so views naming it are rebuilt. */
    private readonly onOrganizationsChanged: () => void = () => {},
  ) {
    this.insertEventStmt = db
      .insert(chainEvents)
      .values({
        blockNumber: sql.placeholder("blockNumber"),
        blockHash: sql.placeholder("blockHash"),
        logIndex: sql.placeholder("logIndex"),
        txHash: sql.placeholder("txHash"),
        contract: sql.placeholder("contract"),
        address: sql.placeholder("address"),
        name: sql.placeholder("name"),
        subject: sql.placeholder("subject"),
        args: sql.placeholder("args"),
        createdAt: sql.placeholder("createdAt"),
      })
      .onConflictDoNothing()
      .prepare();
    this.blockHashStmt = db
      .select({ hash: indexedBlocks.hash })
      .from(indexedBlocks)
      .where(and(eq(indexedBlocks.indexer, sql.placeholder("indexer")), eq(indexedBlocks.number, sql.placeholder("number"))))
      .prepare();
  }

  transaction<T>(fn: () => T): T {
    return this.db.$client.transaction(fn)();
  }

  // -------------------------------------------------------------------------------- cursor

  cursor(name: string): IndexerCursor | undefined {
    const row = this.db.select().from(indexerCursors).where(eq(indexerCursors.name, name)).get();
    return row && { chainId: row.chainId, genesisHash: row.genesisHash, nextBlock: row.nextBlock };
  }

  initCursor(name: string, cursor: IndexerCursor): void {
    this.db
      .insert(indexerCursors)
      .values({ name, ...cursor, updatedAt: Date.now() })
      .onConflictDoNothing()
      .run();
  }

  blockHash(name: string, number: number): string | undefined {
    return this.blockHashStmt.get({ indexer: name, number })?.hash;
  }

  recentBlocks(name: string, limit: number): BlockHash[] {
    return this.db
      .select({ number: indexedBlocks.number, hash: indexedBlocks.hash })
      .from(indexedBlocks)
      .where(eq(indexedBlocks.indexer, name))
      .orderBy(desc(indexedBlocks.number))
      .limit(limit)
      .all();
  }

  advance(name: string, nextBlock: number, hashes: BlockHash[], keep: number): void {
    this.transaction(() => {
      const updated = this.db
        .update(indexerCursors)
        .set({ nextBlock, updatedAt: Date.now() })
        .where(eq(indexerCursors.name, name))
        .run();
      if (updated.changes !== 1) throw new Error(`indexer ${name} has no cursor`);
      for (const h of hashes) {
        this.db
          .insert(indexedBlocks)
          .values({ indexer: name, number: h.number, hash: h.hash })
          .onConflictDoUpdate({ target: [indexedBlocks.indexer, indexedBlocks.number], set: { hash: h.hash } })
          .run();
      }
      const oldest = this.db
        .select({ number: indexedBlocks.number })
        .from(indexedBlocks)
        .where(eq(indexedBlocks.indexer, name))
        .orderBy(desc(indexedBlocks.number))
        .limit(1)
        .offset(Math.max(0, keep - 1))
        .get();
      if (oldest) {
        this.db
          .delete(indexedBlocks)
          .where(and(eq(indexedBlocks.indexer, name), lt(indexedBlocks.number, oldest.number)))
          .run();
      }
    });
  }

  rewindCursor(name: string, nextBlock: number): void {
    this.transaction(() => {
      this.db.update(indexerCursors).set({ nextBlock, updatedAt: Date.now() }).where(eq(indexerCursors.name, name)).run();
      this.db
        .delete(indexedBlocks)
        .where(and(eq(indexedBlocks.indexer, name), sql`${indexedBlocks.number} >= ${nextBlock}`))
        .run();
    });
  }

  // -------------------------------------------------------------------------------- chain_events

  /** Inserts the event unless a log with its block hash and index is already there. */
  insertEvent(event: ChainEventRecord): boolean {
    return this.insertEventStmt.run({ ...event, createdAt: Date.now() }).changes === 1;
  }

  /** Events in blocks after `block`, oldest first. */
  eventsAfter(block: number): ChainEventRecord[] {
    return this.db
      .select(eventColumns)
      .from(chainEvents)
      .where(gt(chainEvents.blockNumber, block))
      .orderBy(asc(chainEvents.blockNumber), asc(chainEvents.logIndex))
      .all();
  }

  /** Every recorded event of one name, oldest first. */
  eventsNamed(contract: string, name: string): ChainEventRecord[] {
    return this.db
      .select(eventColumns)
      .from(chainEvents)
      .where(and(eq(chainEvents.contract, contract), eq(chainEvents.name, name)))
      .orderBy(asc(chainEvents.blockNumber), asc(chainEvents.logIndex))
      .all();
  }

  deleteEventsAfter(block: number): number {
    return this.db.delete(chainEvents).where(gt(chainEvents.blockNumber, block)).run().changes;
  }

  /** All events, oldest first (small tables and tests). */
  allEvents(): ChainEventRecord[] {
    return this.eventsAfter(-1);
  }

  /** Number of events per "contract.name". */
  eventCounts(): Record<string, number> {
    const rows = this.db
      .select({ contract: chainEvents.contract, name: chainEvents.name, n: sql<number>`count(*)` })
      .from(chainEvents)
      .groupBy(chainEvents.contract, chainEvents.name)
      .all();
    return Object.fromEntries(rows.map((r) => [`${r.contract}.${r.name}`, r.n]));
  }

  // -------------------------------------------------------------------------------- cache

  /** Removes a release from the cache (one that no longer exists after a reorg). */
  deleteRelease(address: string): void {
    this.db.delete(releases).where(eq(releases.address, address.toLowerCase())).run();
  }

  /** Removes an organisation from the cache (one that no longer exists after a reorg). */
  deleteOrganization(address: string): void {
    this.db.delete(organizations).where(eq(organizations.address, address.toLowerCase())).run();
    this.onOrganizationsChanged();
  }
}

const eventColumns = {
  blockNumber: chainEvents.blockNumber,
  blockHash: chainEvents.blockHash,
  logIndex: chainEvents.logIndex,
  txHash: chainEvents.txHash,
  contract: chainEvents.contract,
  address: chainEvents.address,
  name: chainEvents.name,
  subject: chainEvents.subject,
  args: chainEvents.args,
};
