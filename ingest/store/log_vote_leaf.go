package store

// VoteLeafMigration keeps each vote's leaf index on the vote's row and
// drops the index of log_leaves by reference: a vote's commit then inserts
// into one B-tree fewer (the index took a page or two of every commit), and
// a vote's leaf is found by its id through the votes' own index. A vote
// with no leaf (imported, or saved with the log off) has none. Votes
// logged before it get theirs from log_leaves, and only they are rewritten
// (a store of imported votes migrates at once). (Kind 118 is
// ledger.KindVote, 'v'.)
const VoteLeafMigration = `ALTER TABLE votes ADD COLUMN leaf INTEGER;
UPDATE votes SET leaf = l.idx FROM (SELECT ref, min(idx) AS idx FROM log_leaves WHERE kind = 118 GROUP BY ref) l
	WHERE votes.id = l.ref;
DROP INDEX log_leaves_ref;`
