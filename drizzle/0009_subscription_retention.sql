CREATE TABLE `event_log_pruned` (
	`type` text PRIMARY KEY NOT NULL,
	`sequence` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deliveries_delivered` ON `deliveries` (`state`,`delivered_at`);--> statement-breakpoint
CREATE INDEX `deliveries_sequence` ON `deliveries` (`sequence`);--> statement-breakpoint
CREATE INDEX `event_log_created` ON `event_log` (`created_at`);