#!/usr/bin/env python3
"""The DuckDB side of the report benchmark: per-user sessions, empty sessions, -1 counts,
gaps over 5 minutes and a 30-minute re-sessionisation over the same Export-like NDJSON file,
with 2 threads. Usage: python3 bench/duckdb_compare.py FILE [RUNS]  (pip install duckdb)."""
import statistics, sys, time
import duckdb

path, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
SQL = f"""
WITH ev AS (
  SELECT coalesce(CAST(amplitude_id AS VARCHAR), user_id, device_id) AS u,
         CAST(session_id AS BIGINT) AS sid,
         epoch_us(CAST(client_event_time AS TIMESTAMP)) // 1000 AS t,  -- truncated, as the contract says
         event_type AS ty
  FROM read_ndjson('{path}', columns={{amplitude_id:'BIGINT', user_id:'VARCHAR', device_id:'VARCHAR',
        session_id:'BIGINT', client_event_time:'VARCHAR', event_type:'VARCHAR'}})
), ins AS (SELECT * FROM ev WHERE sid <> -1),
sess AS (
  SELECT u, sid, count(*) n,
         sum(CASE WHEN ty NOT IN ('session_start','session_end','[Amplitude] Start Session','[Amplitude] End Session','$identify','$groupidentify') THEN 1 ELSE 0 END) active,
         max(t) - sid AS length_ms
  FROM ins GROUP BY u, sid
), gaps AS (
  SELECT count(*) g FROM (
    SELECT t - lag(t) OVER (PARTITION BY u, sid ORDER BY t) d FROM ins) WHERE d > 300000
), act AS (
  SELECT u, t, t - lag(t) OVER (PARTITION BY u ORDER BY t) d FROM ins
  WHERE ty NOT IN ('session_start','session_end','[Amplitude] Start Session','[Amplitude] End Session','$identify','$groupidentify')
)
SELECT (SELECT count(*) FROM ev) events,
       (SELECT count(DISTINCT u) FROM ev) users,
       (SELECT count(*) FROM sess) sessions,
       (SELECT count(*) FROM sess WHERE active = 0) empty_sessions,
       (SELECT count(*) FROM sess WHERE length_ms = 0) zero_length,
       (SELECT count(*) FROM ev WHERE sid = -1 OR sid IS NULL) out_of_session,
       (SELECT g FROM gaps) gaps,
       (SELECT count(*) FROM act WHERE d IS NULL OR d > 1800000) replayed_30m
"""
times = []
for _ in range(runs):
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    start = time.perf_counter()
    row = con.execute(SQL).fetchone()
    times.append(time.perf_counter() - start)
    con.close()
print("duckdb", duckdb.__version__, "result", row)
print(f"duckdb median {statistics.median(times):.2f} s over {runs} runs: {', '.join(f'{t:.2f}' for t in times)}")
