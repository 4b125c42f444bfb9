import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** The local cache of releases. `data` and `green_lights` hold JSON; dates are epoch ms. */
export const releases = sqliteTable(
  "releases",
  {
    address: text("address").primaryKey(),
    creator: text("creator").notNull(),
    owner: text("owner").notNull(),
    /** JSON array of lower-case addresses, creator first, current owner last. */
    owners: text("owners").notNull(),
    terminal: text("terminal"),
    data: text("data").notNull(),
    blNumber: text("bl_number").notNull(),
    containerNumber: text("container_number").notNull(),
    encryptedPin: text("encrypted_pin").notNull(),
    deleted: integer("deleted", { mode: "boolean" }).notNull().default(false),
    blocked: integer("blocked", { mode: "boolean" }).notNull().default(false),
    pinRetrieved: integer("pin_retrieved", { mode: "boolean" }).notNull().default(false),
    gateOut: integer("gate_out"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    version: text("version").notNull(),
    greenLights: text("green_lights").notNull(),
  },
  (t) => [
    index("releases_order").on(t.createdAt, t.address),
    index("releases_bl").on(t.blNumber),
    index("releases_container").on(t.containerNumber),
    index("releases_updated").on(t.updatedAt),
  ],
);

/** Which organisations may see which release: one row per party in the chain, and the
 * terminal. Kept beside `releases` so visibility is an indexed join, not a JSON scan. */
export const releaseParties = sqliteTable(
  "release_parties",
  {
    release: text("release")
      .notNull()
      .references(() => releases.address, { onDelete: "cascade" }),
    party: text("party").notNull(),
  },
  (t) => [index("release_parties_party").on(t.party, t.release)],
);

/** The organisation registry as read from the chain. */
export const organizations = sqliteTable(
  "organizations",
  {
    address: text("address").primaryKey(),
    name: text("name").notNull(),
    vat: text("vat").notNull(),
    role: text("role").notNull().default(""),
    publicKey: text("public_key").notNull().default(""),
    updatedAt: integer("updated_at")
      .notNull()
      .default(sql`(unixepoch() * 1000)`),
  },
  (t) => [index("organizations_vat").on(t.vat)],
);
