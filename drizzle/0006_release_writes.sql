CREATE TABLE `carrier_pins` (
	`release` text PRIMARY KEY NOT NULL,
	`wrapped_pin` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `drivers` (
	`identification` text PRIMARY KEY NOT NULL,
	`first_name` text NOT NULL,
	`last_name` text NOT NULL,
	`email` text NOT NULL,
	`phone` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `releases` ADD `wrapped_key` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `releases` ADD `assignment` text;