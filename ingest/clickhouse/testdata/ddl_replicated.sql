CREATE DATABASE IF NOT EXISTS agora ON CLUSTER agora_cluster;

CREATE TABLE IF NOT EXISTS agora.agora_migrations_local ON CLUSTER agora_cluster
(
    version UInt32,
    name String,
    applied_at DateTime('UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/agora/agora_migrations_local', '{replica}', applied_at)
ORDER BY (version);

CREATE TABLE IF NOT EXISTS agora.battles_local ON CLUSTER agora_cluster
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/agora/battles_local', '{replica}', version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (id);

CREATE TABLE IF NOT EXISTS agora.battles ON CLUSTER agora_cluster
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
ENGINE = Distributed('agora_cluster', 'agora', 'battles_local', cityHash64(id));

CREATE TABLE IF NOT EXISTS agora.turns_local ON CLUSTER agora_cluster
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/agora/turns_local', '{replica}', version)
PARTITION BY toYYYYMM(battle_created_at)
ORDER BY (battle_id, idx);

CREATE TABLE IF NOT EXISTS agora.turns ON CLUSTER agora_cluster
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
ENGINE = Distributed('agora_cluster', 'agora', 'turns_local', cityHash64(battle_id));

CREATE TABLE IF NOT EXISTS agora.votes_local ON CLUSTER agora_cluster
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/agora/votes_local', '{replica}', version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (id);

CREATE TABLE IF NOT EXISTS agora.votes ON CLUSTER agora_cluster
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
ENGINE = Distributed('agora_cluster', 'agora', 'votes_local', cityHash64(battle_id));

CREATE TABLE IF NOT EXISTS agora.pair_counts_local ON CLUSTER agora_cluster
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/agora/pair_counts_local', '{replica}', version)
ORDER BY (store_id, block, model_a, model_b);

CREATE TABLE IF NOT EXISTS agora.pair_counts ON CLUSTER agora_cluster
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
ENGINE = Distributed('agora_cluster', 'agora', 'pair_counts_local', cityHash64(store_id, block));

INSERT INTO agora.pair_counts_local (store_id, block, model_a, model_b, wins_a, wins_b, ties, bothbad, version)
SELECT store_id, intDiv(seq, 65536) AS blk, model_a, model_b,
    countIf(winner = 'a'), countIf(winner = 'b'), countIf(winner = 'tie'), countIf(winner = 'both_bad'),
    max(seq)
FROM agora.votes_local FINAL
GROUP BY store_id, blk, model_a, model_b;

ALTER TABLE agora.votes_local ON CLUSTER agora_cluster ADD COLUMN identity_leak String AFTER language;

ALTER TABLE agora.votes ON CLUSTER agora_cluster ADD COLUMN identity_leak String AFTER language;

ALTER TABLE agora.votes_local ON CLUSTER agora_cluster ADD COLUMN gold String AFTER identity_leak;

ALTER TABLE agora.votes ON CLUSTER agora_cluster ADD COLUMN gold String AFTER identity_leak;
