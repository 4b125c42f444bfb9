CREATE TABLE `operations` (
	`id` text PRIMARY KEY NOT NULL,
	`idempotency_key` text,
	`request_hash` text NOT NULL,
	`kind` text NOT NULL,
	`release` text,
	`signer` text NOT NULL,
	`state` text NOT NULL,
	`to` text NOT NULL,
	`data` text NOT NULL,
	`nonce` integer,
	`gas_limit` text,
	`tx_hash` text,
	`block_number` integer,
	`failure_reason` text,
	`deferrals` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `operations_idempotency_key_unique` ON `operations` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `operations_state` ON `operations` (`state`,`created_at`);--> statement-breakpoint
CREATE INDEX `operations_signer_nonce` ON `operations` (`signer`,`nonce`);--> statement-breakpoint
CREATE TABLE `signer_nonces` (
	`signer` text PRIMARY KEY NOT NULL,
	`next` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `transactions` (
	`hash` text PRIMARY KEY NOT NULL,
	`operation_id` text NOT NULL,
	`nonce` integer NOT NULL,
	`raw` text NOT NULL,
	`max_fee_per_gas` text,
	`max_priority_fee_per_gas` text,
	`gas_price` text,
	`sent_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`operation_id`) REFERENCES `operations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `transactions_operation` ON `transactions` (`operation_id`);