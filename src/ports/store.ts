import type { Organization, ReleaseRecord } from "../domain/releases/model.js";
import type { OperationStore } from "./operations.js";

export interface ReleaseQuery {
  /** Only releases whose ownership chain contains, or whose terminal is, this address. */
  visibleTo: string;
  bl?: string;
  container?: string;
  since?: Date;
  /** 0 means no limit. */
  limit: number;
  /** Counted from 1. */
  page: number;
}

/** The local cache of releases, synchronised from the chain by the indexer. */
export interface ReleaseStore {
  findRelease(address: string): ReleaseRecord | undefined;
  /** In a stable order (creation, then address), so paging neither skips nor repeats. */
  listReleases(query: ReleaseQuery): ReleaseRecord[];
  upsertRelease(release: ReleaseRecord): void;
}

export interface OrganizationStore {
  findOrganization(address: string): Organization | undefined;
  upsertOrganization(org: Organization & { role?: string; publicKey?: string }): void;
}

export interface Store extends ReleaseStore, OrganizationStore {
  readonly operations: OperationStore;
  /** Runs `fn` in one SQLite transaction. */
  transaction<T>(fn: () => T): T;
  close(): void;
}
