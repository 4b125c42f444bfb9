import { eq } from "drizzle-orm";
import type { DriverAssignment } from "../../../domain/releases/model.js";
import type { DriverRecord } from "../../../ports/store.js";
import type { Db } from "./open.js";
import { drivers } from "./schema.js";

/** The driver registry, keyed by identification. */
export class DriverRepository {
  constructor(private readonly db: Db) {}

  findDriver(identification: string): DriverRecord | undefined {
    return this.db.select().from(drivers).where(eq(drivers.identification, identification)).get();
  }

  /** Creates the driver, or updates it when the data differs; returns what is stored. */
  saveDriver(d: Omit<DriverAssignment, "type">, now: number): DriverRecord {
    const existing = this.findDriver(d.identification);
    const fields = { firstName: d.firstName, lastName: d.lastName, email: d.email, phone: d.phone };
    if (!existing) {
      const row = { identification: d.identification, ...fields, createdAt: now, updatedAt: now };
      this.db.insert(drivers).values(row).run();
      return row;
    }
    const same = (Object.keys(fields) as (keyof typeof fields)[]).every((k) => existing[k] === fields[k]);
    if (same) return existing;
    this.db.update(drivers).set({ ...fields, updatedAt: now }).where(eq(drivers.identification, d.identification)).run();
    return { ...existing, ...fields, updatedAt: now };
  }
}
