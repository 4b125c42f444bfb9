import type { Store } from "../../../ports/store.js";
import { openDatabase } from "./open.js";
import { DriverRepository } from "./driver-repository.js";
import { CarrierPinRepository } from "./carrier-pin-repository.js";
import { ConnectionRepository } from "./connection-repository.js";
import { IndexerRepository } from "./indexer-repository.js";
import { OperationRepository } from "./operation-repository.js";
import { ReleaseRepository } from "./release-repository.js";
import { SubscriptionRepository } from "./subscription-repository.js";
import { UsedTokenRepository } from "./used-token-repository.js";

/** The Store port over one SQLite file. */
export class SqliteStore extends ReleaseRepository implements Store {
  static open(file: string): SqliteStore {
    return new SqliteStore(openDatabase(file));
  }

  readonly operations = new OperationRepository(this.db);
  readonly indexer = new IndexerRepository(this.db, () => this.organizationsChanged());
  readonly usedTokens = new UsedTokenRepository(this.db);
  readonly connections = new ConnectionRepository(this.db);
  readonly drivers = new DriverRepository(this.db);
  readonly carrierPins = new CarrierPinRepository(this.db);
  readonly subscriptions = new SubscriptionRepository(this.db);

  transaction<T>(fn: () => T): T {
    return this.db.$client.transaction(fn)();
  }

  close(): void {
    if (this.db.$client.open) this.db.$client.close();
  }
}
