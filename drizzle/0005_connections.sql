CREATE TABLE `connections` (
	`address` text PRIMARY KEY NOT NULL,
	`reference` text
);
--> statement-breakpoint
CREATE TABLE `invitations` (
	`id` text PRIMARY KEY NOT NULL,
	`inviter` text NOT NULL,
	`invitee` text,
	`vat` text NOT NULL,
	`name` text NOT NULL,
	`contact_email` text NOT NULL,
	`status` text NOT NULL,
	`direction` text NOT NULL,
	`reference` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `invitations_vat` ON `invitations` (`vat`,`status`);--> statement-breakpoint
CREATE INDEX `invitations_order` ON `invitations` (`created_at`);