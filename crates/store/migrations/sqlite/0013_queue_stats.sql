-- Rollups of the hall queue for the supervision figures (SQLite): waiting times and throughput
-- (docs/kpis.md, `tongban_domain::stats::queue`). Keep tables and columns identical to
-- ../postgres/0013_queue_stats.sql (a test checks it).
--
-- Every ticket write moves these rows by what the ticket contributed before and after, in the
-- ticket's own transaction. A ticket counts on the day it was taken (China time): its wait
-- (taken → first call, whole seconds) in the row of its hall with an empty `window_key`, its
-- service in the row of the window that finished it.
CREATE TABLE stats_queue_daily (
    day TEXT NOT NULL,
    hall TEXT NOT NULL,
    window_key TEXT NOT NULL,
    tickets_called BIGINT NOT NULL,
    wait_seconds BIGINT NOT NULL,
    tickets_served BIGINT NOT NULL,
    PRIMARY KEY (day, hall, window_key)
);

-- Called tickets per month × hall × wait in whole minutes (rounded up), for percentiles.
CREATE TABLE stats_wait_histogram (
    month TEXT NOT NULL,
    hall TEXT NOT NULL,
    minutes BIGINT NOT NULL,
    tickets BIGINT NOT NULL,
    PRIMARY KEY (month, hall, minutes)
);

-- The tickets taken before this migration.
INSERT INTO stats_queue_daily (day, hall, window_key, tickets_called, wait_seconds, tickets_served)
SELECT day, hall, '', COUNT(*), SUM(MAX(called_at - taken_at, 0) / 1000000), 0
FROM tickets WHERE called_at IS NOT NULL GROUP BY day, hall;

INSERT INTO stats_queue_daily (day, hall, window_key, tickets_called, wait_seconds, tickets_served)
SELECT day, hall, window_key, 0, 0, COUNT(*)
FROM tickets WHERE status = 'done' AND window_key IS NOT NULL GROUP BY day, hall, window_key;

INSERT INTO stats_wait_histogram (month, hall, minutes, tickets)
SELECT substr(day, 1, 7), hall, (MAX(called_at - taken_at, 0) / 1000000 + 59) / 60, COUNT(*)
FROM tickets WHERE called_at IS NOT NULL
GROUP BY substr(day, 1, 7), hall, (MAX(called_at - taken_at, 0) / 1000000 + 59) / 60;
