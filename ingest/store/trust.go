package store

// LeakMigration adds why a battle was not anonymous (rlhf.Battle's
// IdentityLeak; empty when it was).
const LeakMigration = `ALTER TABLE battles ADD COLUMN identity_leak TEXT NOT NULL DEFAULT '';`
