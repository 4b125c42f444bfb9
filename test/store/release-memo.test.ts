import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/adapters/store/sqlite/store.js";
import { ReleaseQueries } from "../../src/domain/releases/queries.js";
import { SPEC_CARRIER, SPEC_SELF, specReleaseRecord } from "../support/gateway.js";

let dir: string;
let store: SqliteStore;
const page = { limit: 10, page: 1, since: "", bl: "", container: "" };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "scr-memo-"));
  store = SqliteStore.open(join(dir, "db.sqlite3"));
  store.upsertOrganization(SPEC_CARRIER);
  store.upsertOrganization(SPEC_SELF);
  store.upsertRelease(specReleaseRecord());
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("reads of unchanged releases are memoised, and every write shows at once", () => {
  it("an unchanged release is the same record and the same view on the next read", () => {
    const queries = new ReleaseQueries(store);
    const [first] = queries.list(SPEC_SELF, page);
    const [again] = queries.list(SPEC_SELF, page);
    expect(again).toBe(first);
    expect(store.findRelease(first!.address)).toBe(store.findRelease(first!.address));
  });

  it("a write of the release gives a new record and a new view with the new state", () => {
    const queries = new ReleaseQueries(store);
    const [before] = queries.list(SPEC_SELF, page);
    // The same second, the same updatedAt: only the row's revision tells the change.
    store.upsertRelease(specReleaseRecord({ pinRetrieved: true, blocked: true }));
    const [after] = queries.list(SPEC_SELF, page);
    expect(after).not.toBe(before);
    expect([after!.pinRetrieved, after!.blocked, after!.data.container.containerStatus]).toEqual([true, true, "blocked"]);
    expect(store.findRelease(before!.address)?.pinRetrieved).toBe(true);
  });

  it("a renamed organisation shows in views of unchanged releases", () => {
    const queries = new ReleaseQueries(store);
    const [before] = queries.list(SPEC_SELF, page);
    expect(before!.previousOwner?.name).toBe(SPEC_CARRIER.name);
    store.upsertOrganization({ ...SPEC_CARRIER, name: "Carrier Renamed NV" });
    const [after] = queries.list(SPEC_SELF, page);
    expect(after!.previousOwner?.name).toBe("Carrier Renamed NV");
    store.indexer.deleteOrganization(SPEC_CARRIER.address);
    const [gone] = queries.list(SPEC_SELF, page);
    expect(gone!.previousOwner?.name).toBe("");
  });
});
