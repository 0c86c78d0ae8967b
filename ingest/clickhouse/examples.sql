-- Example queries for researchers. Each starts with a "-- name:" line and
-- its description; they read the database "agora" (replace it with yours).
-- They use only SQL that ClickHouse 18.16 and current releases both accept,
-- and read every table deduplicated (FINAL or argMax). The test suite runs
-- each of them against shipped votes and checks their numbers.
--
-- Agora's counting rule: a vote on a battle where a side failed (an answer
-- ended in an error: error_a or error_b is set in turns) is never counted
-- as a vote. pair_counts leaves such votes out; queries on votes exclude
-- them with the NOT IN below, and failed_votes_per_model counts them.

-- name: win_rates_per_pair
-- How each ordered pair of models fared: votes, wins of the model on side a
-- and on side b, ties (including "both bad"), and side a's win rate with
-- ties counted as half a win. Read from the small pair_counts table.
SELECT
    model_a,
    model_b,
    sum(wins_a) + sum(wins_b) + sum(ties) + sum(bothbad) AS votes,
    sum(wins_a) AS a_wins,
    sum(wins_b) AS b_wins,
    sum(ties) + sum(bothbad) AS tie_votes,
    round((a_wins + 0.5 * tie_votes) / votes, 4) AS a_win_rate
FROM agora.pair_counts FINAL
GROUP BY model_a, model_b
HAVING votes > 0
ORDER BY votes DESC, model_a, model_b;

-- name: model_records
-- Per model, on either side: battles, wins, losses and ties, best win rate
-- first.
SELECT
    model,
    count() AS battles,
    sum(won) AS wins,
    sum(lost) AS losses,
    battles - wins - losses AS ties,
    round(wins / battles, 4) AS win_rate
FROM
(
    SELECT
        arrayJoin([(model_a, winner = 'a', winner = 'b'), (model_b, winner = 'b', winner = 'a')]) AS side,
        tupleElement(side, 1) AS model,
        tupleElement(side, 2) AS won,
        tupleElement(side, 3) AS lost
    FROM agora.votes FINAL
    WHERE battle_id GLOBAL NOT IN (SELECT battle_id FROM agora.turns FINAL WHERE error_a != '' OR error_b != '')
)
GROUP BY model
ORDER BY win_rate DESC, model;

-- name: votes_per_day
-- Votes and distinct contributors per day (UTC).
SELECT
    toDate(created_at) AS day,
    count() AS votes,
    uniqExact(contributor_id) AS contributors
FROM agora.votes FINAL
WHERE battle_id GLOBAL NOT IN (SELECT battle_id FROM agora.turns FINAL WHERE error_a != '' OR error_b != '')
GROUP BY day
ORDER BY day;

-- name: answer_lengths_per_model
-- Answer lengths per model over every turn: characters (mean and median)
-- and tokens as the model reported them.
SELECT
    model,
    count() AS answers,
    round(avg(chars), 1) AS mean_chars,
    quantileExact(0.5)(chars) AS median_chars,
    round(avg(tokens), 1) AS mean_tokens
FROM
(
    SELECT model_a AS model, lengthUTF8(answer_a) AS chars, tokens_a AS tokens FROM agora.turns FINAL
    UNION ALL
    SELECT model_b AS model, lengthUTF8(answer_b) AS chars, tokens_b AS tokens FROM agora.turns FINAL
)
GROUP BY model
ORDER BY model;

-- name: contributor_activity
-- The most active contributors: votes, days with a vote, first and last
-- vote, and how often they call a tie.
SELECT
    contributor_id,
    count() AS votes,
    uniqExact(toDate(created_at)) AS active_days,
    min(created_at) AS first_vote,
    max(created_at) AS last_vote,
    round(countIf(winner IN ('tie', 'both_bad')) / votes, 3) AS tie_share
FROM agora.votes FINAL
WHERE battle_id GLOBAL NOT IN (SELECT battle_id FROM agora.turns FINAL WHERE error_a != '' OR error_b != '')
GROUP BY contributor_id
ORDER BY votes DESC, contributor_id
LIMIT 100;

-- name: length_vs_verdict
-- Does the longer conversation win? Mean difference in answer length
-- (side a minus side b) per verdict: one JOIN of votes with per-battle
-- answer lengths.
SELECT
    winner,
    count() AS votes,
    round(avg(len_a - len_b), 1) AS mean_length_difference
FROM
(
    SELECT battle_id, winner FROM agora.votes FINAL
    WHERE battle_id GLOBAL NOT IN (SELECT battle_id FROM agora.turns FINAL WHERE error_a != '' OR error_b != '')
) AS v
ALL INNER JOIN
(
    SELECT battle_id, sum(lengthUTF8(answer_a)) AS len_a, sum(lengthUTF8(answer_b)) AS len_b
    FROM agora.turns FINAL
    GROUP BY battle_id
) AS t USING battle_id
GROUP BY winner
ORDER BY winner;

-- name: failed_votes_per_model
-- Votes on battles where a side failed, per model whose side failed: these
-- are never counted as votes anywhere, and are reported here instead.
SELECT
    model,
    count() AS failed_votes
FROM
(
    SELECT
        battle_id,
        any(model_a) AS first_model,
        any(model_b) AS second_model,
        max(error_a) != '' AS a_failed,
        max(error_b) != '' AS b_failed
    FROM agora.turns FINAL
    WHERE battle_id GLOBAL IN (SELECT battle_id FROM agora.votes FINAL)
    GROUP BY battle_id
    HAVING a_failed OR b_failed
)
ARRAY JOIN arrayFilter(x -> x != '', [if(a_failed, first_model, ''), if(b_failed, second_model, '')]) AS model
GROUP BY model
ORDER BY failed_votes DESC, model;

-- name: latest_battles_argmax
-- The newest version of each battle without FINAL: argMax picks each
-- column's value from the row with the highest version.
SELECT
    id,
    argMax(model_a, version) AS first_model,
    argMax(model_b, version) AS second_model,
    argMax(status, version) AS last_status,
    argMax(turns, version) AS turn_count
FROM agora.battles
GROUP BY id
ORDER BY id
LIMIT 100;

-- name: votes_per_store
-- What each Agora server (embedded store) has shipped: votes and the
-- highest sequence number, for comparing with its /readyz cursor.
SELECT
    store_id,
    count() AS votes,
    max(seq) AS last_seq,
    max(created_at) AS last_vote
FROM agora.votes FINAL
GROUP BY store_id
ORDER BY store_id;

-- name: exactly_once_audit
-- Physical rows, distinct vote ids and deduplicated rows: the last two
-- always agree; the first is larger only until ClickHouse merges the
-- duplicates of a retried insert.
SELECT
    count() AS physical_rows,
    uniqExact(id) AS distinct_ids,
    (SELECT count() FROM agora.votes FINAL) AS final_rows
FROM agora.votes;
