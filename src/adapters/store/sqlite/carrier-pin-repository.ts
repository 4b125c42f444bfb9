import { eq } from "drizzle-orm";
import type { Db } from "./open.js";
import { carrierPins } from "./schema.js";

/** A carrier's own wrapped copy of each pincode it issued. */
export class CarrierPinRepository {
  constructor(private readonly db: Db) {}

  findPin(release: string): string | undefined {
    return this.db.select().from(carrierPins).where(eq(carrierPins.release, release.toLowerCase())).get()?.wrappedPin;
  }

  savePin(release: string, wrappedPin: string, now: number): void {
    const row = { release: release.toLowerCase(), wrappedPin, updatedAt: now };
    this.db.insert(carrierPins).values(row).onConflictDoUpdate({ target: carrierPins.release, set: row }).run();
  }
}
