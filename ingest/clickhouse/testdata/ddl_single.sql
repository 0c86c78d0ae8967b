CREATE DATABASE IF NOT EXISTS agora;

CREATE TABLE IF NOT EXISTS agora.agora_migrations
(
    version UInt32,
    name String,
    applied_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY (version);

CREATE TABLE IF NOT EXISTS agora.battles
(
    store_id String,
    id String,
    contributor_id String,
    model_a String,
    model_b String,
    status String,
    source String,
    campaign_id String,
    category String,
    language String,
    turns UInt16,
    created_at DateTime('UTC'),
    created_at_ms Int64,
    updated_at DateTime('UTC'),
    updated_at_ms Int64,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (id);

CREATE TABLE IF NOT EXISTS agora.turns
(
    battle_id String,
    idx UInt16,
    model_a String,
    model_b String,
    prompt String,
    at DateTime('UTC'),
    at_ms Int64,
    answer_a String,
    answer_b String,
    finish_a String,
    finish_b String,
    error_a String,
    error_b String,
    tokens_a UInt32,
    tokens_b UInt32,
    ttft_a_ms UInt32,
    ttft_b_ms UInt32,
    duration_a_ms UInt32,
    duration_b_ms UInt32,
    battle_created_at DateTime('UTC'),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(battle_created_at)
ORDER BY (battle_id, idx);

CREATE TABLE IF NOT EXISTS agora.votes
(
    store_id String,
    seq UInt64,
    id String,
    battle_id String,
    contributor_id String,
    model_a String,
    model_b String,
    winner Enum8('a' = 1, 'b' = 2, 'tie' = 3, 'both_bad' = 4),
    strength String,
    reason String,
    source String,
    category String,
    language String,
    created_at DateTime('UTC'),
    created_at_ms Int64,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (id);

CREATE TABLE IF NOT EXISTS agora.pair_counts
(
    store_id String,
    block UInt64,
    model_a String,
    model_b String,
    wins_a UInt64,
    wins_b UInt64,
    ties UInt64,
    bothbad UInt64,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (store_id, block, model_a, model_b);

INSERT INTO agora.pair_counts (store_id, block, model_a, model_b, wins_a, wins_b, ties, bothbad, version)
SELECT store_id, intDiv(seq, 65536) AS blk, model_a, model_b,
    countIf(winner = 'a'), countIf(winner = 'b'), countIf(winner = 'tie'), countIf(winner = 'both_bad'),
    max(seq)
FROM agora.votes FINAL
GROUP BY store_id, blk, model_a, model_b;

ALTER TABLE agora.votes ADD COLUMN identity_leak String AFTER language;

ALTER TABLE agora.votes ADD COLUMN gold String AFTER identity_leak;
