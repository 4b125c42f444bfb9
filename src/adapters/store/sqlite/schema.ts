import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

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
    /** The data key wrapped on chain for this organisation (0x hex); "" when none. */
    wrappedKey: text("wrapped_key").notNull().default(""),
    /** JSON of the decrypted driver or barge, for the current owner and the terminal. */
    assignment: text("assignment"),
    /** Bumped by every write of the row: readers keep what they derived from it until it moves. */
    revision: integer("revision").notNull().default(0),
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

/**
 * Every accepted write. A row exists before the caller hears 202, so nothing accepted is
 * lost; `idempotency_key` makes a retried request return the same row.
 */
export const operations = sqliteTable(
  "operations",
  {
    id: text("id").primaryKey(),
    idempotencyKey: text("idempotency_key").unique(),
    /** A hash of what was asked, to tell a retry from a different request reusing a key. */
    requestHash: text("request_hash").notNull(),
    kind: text("kind").notNull(),
    release: text("release"),
    signer: text("signer").notNull(),
    /** pending | submitted | confirmed | failed */
    state: text("state").notNull(),
    to: text("to").notNull(),
    data: text("data").notNull(),
    nonce: integer("nonce"),
    gasLimit: text("gas_limit"),
    txHash: text("tx_hash"),
    blockNumber: integer("block_number"),
    failureReason: text("failure_reason"),
    /** Attempts to estimate that were deferred behind earlier unconfirmed writes. */
    deferrals: integer("deferrals").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("operations_state").on(t.state, t.createdAt),
    index("operations_signer_state").on(t.signer, t.state, t.nonce, t.createdAt),
  ],
);

/** Each signed transaction, committed before it is broadcast; a fee bump adds a row. */
export const transactions = sqliteTable(
  "transactions",
  {
    hash: text("hash").primaryKey(),
    operationId: text("operation_id")
      .notNull()
      .references(() => operations.id),
    nonce: integer("nonce").notNull(),
    raw: text("raw").notNull(),
    maxFeePerGas: text("max_fee_per_gas"),
    maxPriorityFeePerGas: text("max_priority_fee_per_gas"),
    gasPrice: text("gas_price"),
    sentAt: integer("sent_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("transactions_operation").on(t.operationId)],
);

/** The next nonce per signer: assigned at source and persisted before signing. */
export const signerNonces = sqliteTable("signer_nonces", {
  signer: text("signer").primaryKey(),
  next: integer("next").notNull(),
});

/**
 * Where each chain follower (the indexer) stands: the next block to read, and the chain it
 * was started on (chain id and genesis hash), so a reset dev chain is recognised at start.
 */
export const indexerCursors = sqliteTable("indexer_cursors", {
  name: text("name").primaryKey(),
  chainId: text("chain_id").notNull(),
  genesisHash: text("genesis_hash").notNull(),
  nextBlock: integer("next_block").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** Hashes of the most recently indexed blocks (range ends, blocks with events), for reorg checks. */
export const indexedBlocks = sqliteTable(
  "indexed_blocks",
  {
    indexer: text("indexer").notNull(),
    number: integer("number").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [primaryKey({ columns: [t.indexer, t.number] })],
);

/**
 * Every decoded contract event the indexer committed. `args` is JSON (bigints as decimal
 * strings); `subject` is what the event is about, lower case: the release id, the account, or
 * the invitation id. A block hash and log index identify a log, so a log is never stored twice.
 */
export const chainEvents = sqliteTable(
  "chain_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    blockNumber: integer("block_number").notNull(),
    blockHash: text("block_hash").notNull(),
    logIndex: integer("log_index").notNull(),
    txHash: text("tx_hash").notNull(),
    /** organizationRegistry | connections | releaseRegistry */
    contract: text("contract").notNull(),
    address: text("address").notNull(),
    name: text("name").notNull(),
    subject: text("subject"),
    args: text("args").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("chain_events_log").on(t.blockHash, t.logIndex),
    index("chain_events_block").on(t.blockNumber, t.logIndex),
    index("chain_events_subject").on(t.subject, t.blockNumber),
  ],
);

/** Callers' JWTs already accepted (one-time use); `id` is the jti or the token's sha256. */
export const usedTokens = sqliteTable("used_tokens", {
  id: text("id").primaryKey(),
  /** Unix seconds; the entry can be purged after this. */
  expiresAt: integer("expires_at").notNull(),
});

/**
 * Invitations this organisation sent or received, as the chain holds them; `reference` is the
 * inviter's own key, kept only on the inviting side and never on chain. Dates are epoch ms.
 */
export const invitations = sqliteTable(
  "invitations",
  {
    /** The bytes32 invitation id, lower-case hex. */
    id: text("id").primaryKey(),
    inviter: text("inviter").notNull(),
    /** The account that answered, or the one registered with the VAT; null until known. */
    invitee: text("invitee"),
    vat: text("vat").notNull(),
    name: text("name").notNull(),
    contactEmail: text("contact_email").notNull(),
    /** pending | accepted | refused */
    status: text("status").notNull(),
    /** outgoing | incoming */
    direction: text("direction").notNull(),
    reference: text("reference"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("invitations_vat").on(t.vat, t.status), index("invitations_order").on(t.createdAt)],
);

/** The organisations this one is connected with; `reference` from the invitation it sent. */
export const connections = sqliteTable("connections", {
  address: text("address").primaryKey(),
  reference: text("reference"),
});

/**
 * Drivers this organisation assigned, keyed by their identification (the Alfapass number):
 * created on first assignment and updated when an assignment carries different data.
 */
export const drivers = sqliteTable("drivers", {
  identification: text("identification").primaryKey(),
  firstName: text("first_name").notNull(),
  lastName: text("last_name").notNull(),
  email: text("email").notNull(),
  phone: text("phone").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * A carrier's own copy of the pincode of each release it created, wrapped with its own RSA
 * key: the chain only keeps the copies wrapped for the current owner and the terminal, and
 * the carrier must re-wrap (or rotate) the pin after a revoke.
 */
export const carrierPins = sqliteTable("carrier_pins", {
  release: text("release").primaryKey(),
  /** RSA-OAEP-wrapped for this organisation, 0x hex. */
  wrappedPin: text("wrapped_pin").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * Callback subscriptions. One per event type and URL: registering the same again revives it.
 * `secret` ("whsec_…") signs Standard Webhooks headers; it is never returned by the API.
 */
export const subscriptions = sqliteTable(
  "subscriptions",
  {
    id: text("id").primaryKey(),
    /** onRelease | onAcceptInvitation */
    eventType: text("event_type").notNull(),
    callbackUrl: text("callback_url").notNull(),
    secret: text("secret"),
    /** False after a 410 Gone. */
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    disabledReason: text("disabled_reason"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("subscriptions_target").on(t.eventType, t.callbackUrl)],
);

/**
 * This organisation's notifications, in the order they happened: written in the indexer's
 * transaction, streamed by WatchEvents from `sequence`, delivered to subscriptions through
 * `deliveries`. `event_id` is stable (derived from the chain log), so re-indexing adds nothing.
 */
export const eventLog = sqliteTable(
  "event_log",
  {
    sequence: integer("sequence").primaryKey({ autoIncrement: true }),
    eventId: text("event_id").notNull().unique(),
    /** onRelease | onAcceptInvitation */
    type: text("type").notNull(),
    /** TRANSFER, UPDATE, … or accepted / refused */
    kind: text("kind").notNull(),
    /** release:<address> or invitation:<id>: deliveries of one key keep their order. */
    orderingKey: text("ordering_key").notNull(),
    /** The callback body's documented keys, JSON. */
    payload: text("payload").notNull(),
    blockNumber: integer("block_number").notNull(),
    txHash: text("tx_hash").notNull(),
    logIndex: integer("log_index").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("event_log_type").on(t.type, t.sequence), index("event_log_created").on(t.createdAt)],
);

/**
 * Per event type, the highest sequence retention removed from `event_log`: a WatchEvents
 * stream resuming before it would miss events, and is refused.
 */
export const eventLogPruned = sqliteTable("event_log_pruned", {
  /** onRelease | onAcceptInvitation */
  type: text("type").primaryKey(),
  sequence: integer("sequence").notNull(),
});

/**
 * The outbox: one row per event and subscription. Done only after a 2xx; pending ones are
 * sent again after a crash, with the same event id.
 */
export const deliveries = sqliteTable(
  "deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    subscriptionId: text("subscription_id")
      .notNull()
      .references(() => subscriptions.id, { onDelete: "cascade" }),
    sequence: integer("sequence")
      .notNull()
      .references(() => eventLog.sequence),
    /** The event's ordering key, repeated here for the head-of-line query. */
    orderingKey: text("ordering_key").notNull(),
    /** pending | delivered | dead */
    state: text("state").notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at"),
    /** When the current retry period began: the first attempt, or the last redelivery. */
    firstAttemptAt: integer("first_attempt_at"),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
    deliveredAt: integer("delivered_at"),
  },
  (t) => [
    uniqueIndex("deliveries_event").on(t.subscriptionId, t.sequence),
    index("deliveries_due").on(t.state, t.nextAttemptAt),
    index("deliveries_line").on(t.subscriptionId, t.orderingKey, t.state, t.sequence),
    index("deliveries_state").on(t.subscriptionId, t.state, t.sequence),
    // Retention: the delivered ones by age, and whether an event still has any delivery.
    index("deliveries_delivered").on(t.state, t.deliveredAt),
    index("deliveries_sequence").on(t.sequence),
  ],
);

/** Every HTTP attempt of a delivery: its status (null: no answer), latency and error. */
export const deliveryAttempts = sqliteTable(
  "delivery_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    deliveryId: integer("delivery_id")
      .notNull()
      .references(() => deliveries.id, { onDelete: "cascade" }),
    subscriptionId: text("subscription_id").notNull(),
    eventId: text("event_id").notNull(),
    attempt: integer("attempt").notNull(),
    startedAt: integer("started_at").notNull(),
    status: integer("status"),
    latencyMs: integer("latency_ms").notNull(),
    error: text("error"),
    /** delivered | retry | dead | gone */
    outcome: text("outcome").notNull(),
  },
  (t) => [index("delivery_attempts_subscription").on(t.subscriptionId, t.id), index("delivery_attempts_delivery").on(t.deliveryId, t.id)],
);
