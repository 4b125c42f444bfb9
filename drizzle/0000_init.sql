CREATE TABLE `organizations` (
	`address` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`vat` text NOT NULL,
	`role` text DEFAULT '' NOT NULL,
	`public_key` text DEFAULT '' NOT NULL,
	`updated_at` integer DEFAULT (unixepoch() * 1000) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `organizations_vat` ON `organizations` (`vat`);--> statement-breakpoint
CREATE TABLE `release_parties` (
	`release` text NOT NULL,
	`party` text NOT NULL,
	FOREIGN KEY (`release`) REFERENCES `releases`(`address`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `release_parties_party` ON `release_parties` (`party`,`release`);--> statement-breakpoint
CREATE TABLE `releases` (
	`address` text PRIMARY KEY NOT NULL,
	`creator` text NOT NULL,
	`owner` text NOT NULL,
	`owners` text NOT NULL,
	`terminal` text,
	`data` text NOT NULL,
	`bl_number` text NOT NULL,
	`container_number` text NOT NULL,
	`encrypted_pin` text NOT NULL,
	`deleted` integer DEFAULT false NOT NULL,
	`blocked` integer DEFAULT false NOT NULL,
	`pin_retrieved` integer DEFAULT false NOT NULL,
	`gate_out` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`version` text NOT NULL,
	`green_lights` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `releases_order` ON `releases` (`created_at`,`address`);--> statement-breakpoint
CREATE INDEX `releases_bl` ON `releases` (`bl_number`);--> statement-breakpoint
CREATE INDEX `releases_container` ON `releases` (`container_number`);--> statement-breakpoint
CREATE INDEX `releases_updated` ON `releases` (`updated_at`);