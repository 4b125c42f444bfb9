import type { DriverAssignment, Organization, Party, ReleaseRecord } from "../domain/releases/model.js";
import type { ConnectionStore } from "./connections.js";
import type { OperationStore } from "./operations.js";
import type { SubscriptionStore } from "./subscriptions.js";

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
  /** Records may be shared between callers (and memoised on): never mutate one. */
  findRelease(address: string): ReleaseRecord | undefined;
  /** In a stable order (creation, then address), so paging neither skips nor repeats. */
  listReleases(query: ReleaseQuery): ReleaseRecord[];
  upsertRelease(release: ReleaseRecord): void;
}

export interface OrganizationStore {
  findOrganization(address: string): Organization | undefined;
  /** With the role and the public key: what it takes to check and encrypt for a party. */
  findParty(address: string): Party | undefined;
  upsertOrganization(org: Organization & { role?: string; publicKey?: string }): void;
  /** Moves whenever an organisation is written or removed. */
  organizationsVersion(): number;
}

export interface DriverRecord extends Omit<DriverAssignment, "type"> {
  createdAt: number;
  updatedAt: number;
}

/** Drivers assigned by this organisation, keyed by identification (the spec's driver registry). */
export interface DriverStore {
  findDriver(identification: string): DriverRecord | undefined;
  /** Creates the driver, or updates it when the data differs. */
  saveDriver(driver: Omit<DriverAssignment, "type">, now: number): DriverRecord;
}

/** A carrier's own wrapped copies of the pincodes it issued (0x hex). */
export interface CarrierPinStore {
  findPin(release: string): string | undefined;
  savePin(release: string, wrappedPin: string, now: number): void;
}

export interface Store extends ReleaseStore, OrganizationStore {
  readonly operations: OperationStore;
  readonly connections: ConnectionStore;
  readonly drivers: DriverStore;
  readonly carrierPins: CarrierPinStore;
  readonly subscriptions: SubscriptionStore;
  /** Runs `fn` in one SQLite transaction. */
  transaction<T>(fn: () => T): T;
  close(): void;
}
