DROP INDEX `operations_signer_nonce`;--> statement-breakpoint
CREATE INDEX `operations_signer_state` ON `operations` (`signer`,`state`,`nonce`,`created_at`);