CREATE TABLE `chain_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`block_number` integer NOT NULL,
	`block_hash` text NOT NULL,
	`log_index` integer NOT NULL,
	`tx_hash` text NOT NULL,
	`contract` text NOT NULL,
	`address` text NOT NULL,
	`name` text NOT NULL,
	`subject` text,
	`args` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `chain_events_log` ON `chain_events` (`block_hash`,`log_index`);--> statement-breakpoint
CREATE INDEX `chain_events_block` ON `chain_events` (`block_number`,`log_index`);--> statement-breakpoint
CREATE INDEX `chain_events_subject` ON `chain_events` (`subject`,`block_number`);--> statement-breakpoint
CREATE TABLE `indexed_blocks` (
	`indexer` text NOT NULL,
	`number` integer NOT NULL,
	`hash` text NOT NULL,
	PRIMARY KEY(`indexer`, `number`)
);
--> statement-breakpoint
CREATE TABLE `indexer_cursors` (
	`name` text PRIMARY KEY NOT NULL,
	`chain_id` text NOT NULL,
	`genesis_hash` text NOT NULL,
	`next_block` integer NOT NULL,
	`updated_at` integer NOT NULL
);
