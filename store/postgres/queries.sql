-- Every statement the driver runs, named with "-- name: X". pgx prepares
-- and caches each one per connection on first use.

-- name: flowLatest
SELECT namespace, id, revision, tenant_id, source, deleted, updated
FROM flows WHERE namespace = $1 AND id = $2 AND latest;

-- name: flowLatestForUpdate
SELECT namespace, id, revision, tenant_id, source, deleted, updated
FROM flows WHERE namespace = $1 AND id = $2 AND latest FOR UPDATE;

-- name: flowRevision
SELECT namespace, id, revision, tenant_id, source, deleted, updated
FROM flows WHERE namespace = $1 AND id = $2 AND revision = $3;

-- name: flowRevisions
SELECT namespace, id, revision, tenant_id, source, deleted, updated
FROM flows WHERE namespace = $1 AND id = $2 ORDER BY revision;

-- name: flowUnsetLatest
UPDATE flows SET latest = false WHERE namespace = $1 AND id = $2 AND latest;

-- name: flowInsert
INSERT INTO flows (namespace, id, revision, source, deleted, latest, updated)
VALUES ($1, $2, $3, $4, $5, true, $6);

-- name: flowSearch
SELECT namespace, id, revision, tenant_id, source, deleted, updated
FROM flows
WHERE latest AND NOT deleted
  AND ($1 = '' OR namespace = $1 OR (namespace >= $1 || '.' AND namespace < $1 || '/'))
  AND strpos(lower(id), lower($2)) > 0
ORDER BY namespace, id
LIMIT $3 OFFSET $4;

-- name: flowCount
SELECT count(*)
FROM flows
WHERE latest AND NOT deleted
  AND ($1 = '' OR namespace = $1 OR (namespace >= $1 || '.' AND namespace < $1 || '/'))
  AND strpos(lower(id), lower($2)) > 0;

-- name: execInsert
INSERT INTO executions (id, namespace, flow_id, state, start_date, labels, parent_id, doc, version, dirty)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, true);

-- name: execGet
-- The header and the task runs in one statement: one snapshot.
SELECT e.doc, e.version, coalesce((SELECT array_agg(t.doc ORDER BY t.pos) FROM task_runs AS t WHERE t.execution_id = e.id), '{}')
FROM executions AS e WHERE e.id = $1;

-- name: execGetAll
-- execGet for every execution of $1.
SELECT e.id, e.doc, e.version, coalesce((SELECT array_agg(t.doc ORDER BY t.pos) FROM task_runs AS t WHERE t.execution_id = e.id), '{}')
FROM executions AS e WHERE e.id = ANY ($1);

-- name: execState
SELECT state FROM executions WHERE id = $1;

-- name: execExists
SELECT true FROM executions WHERE id = $1;

-- name: execSave
-- Namespace, flow, parent and start date are fixed at Create; leaving them
-- out of SET spares the indexes on them a rewrite on every step. A stale
-- version raises (SQLSTATE OSV01): the save is one batch in one implicit
-- transaction, which the error rolls back, statements before it included.
-- With $8 the batch commits without waiting for the disk (see Save).
WITH u AS (
    UPDATE executions
    SET state = $3, labels = $4, doc = $5, version = version + 1, wake_at = $6,
        lease_until = CASE WHEN lease_owner = $7 THEN NULL ELSE lease_until END,
        lease_owner = CASE WHEN lease_owner = $7 THEN NULL ELSE lease_owner END
    WHERE id = $1 AND version = $2
    RETURNING version, dirty)
SELECT version, dirty
FROM u, set_config('synchronous_commit', CASE WHEN $8::boolean THEN 'off' ELSE current_setting('synchronous_commit') END, true) AS sync
UNION ALL
SELECT osprey_fail('OSV01', 'execution ' || $1 || ' is not at version ' || $2), false
WHERE NOT EXISTS (SELECT FROM u);

-- name: taskRunPut
-- Writes task runs of execution $1 ($2 ids, $3 documents, in list order): a
-- stored one keeps its position, a new one goes after every stored one.
INSERT INTO task_runs (execution_id, pos, id, doc)
SELECT $1, b.next + r.n - 1, r.id, r.doc
FROM (SELECT coalesce(max(pos), -1) + 1 AS next FROM task_runs WHERE execution_id = $1) AS b,
     unnest($2::text[], $3::bytea[]) WITH ORDINALITY AS r(id, doc, n)
ON CONFLICT (execution_id, id) DO UPDATE SET doc = excluded.doc;

-- name: taskRunDelete
DELETE FROM task_runs WHERE execution_id = $1 AND id = ANY ($2);

-- name: taskRunDeleteAll
DELETE FROM task_runs WHERE execution_id = $1;

-- name: execMarkDirty
UPDATE executions SET dirty = true WHERE id = $1;

-- name: execSearch
SELECT doc, coalesce((SELECT array_agg(t.doc ORDER BY t.pos) FROM task_runs AS t WHERE t.execution_id = executions.id), '{}') FROM executions
WHERE ($1 = '' OR namespace = $1 OR (namespace >= $1 || '.' AND namespace < $1 || '/'))
  AND ($2 = '' OR flow_id = $2)
  AND ($3::text[] IS NULL OR state = ANY ($3))
  AND ($4::jsonb IS NULL OR labels @> $4)
  AND ($5 = '' OR parent_id = $5)
  AND ($6::timestamptz IS NULL OR start_date >= $6)
  AND ($7::timestamptz IS NULL OR start_date <= $7)
ORDER BY start_date DESC, id DESC
LIMIT $8 OFFSET $9;

-- name: execCount
SELECT count(*) FROM executions
WHERE ($1 = '' OR namespace = $1 OR (namespace >= $1 || '.' AND namespace < $1 || '/'))
  AND ($2 = '' OR flow_id = $2)
  AND ($3::text[] IS NULL OR state = ANY ($3))
  AND ($4::jsonb IS NULL OR labels @> $4)
  AND ($5 = '' OR parent_id = $5)
  AND ($6::timestamptz IS NULL OR start_date >= $6)
  AND ($7::timestamptz IS NULL OR start_date <= $7);

-- name: execCountActive
SELECT count(*) FROM executions
WHERE namespace = $1 AND flow_id = $2 AND state = ANY ($3);

-- name: execDelete
DELETE FROM executions WHERE id = $1;

-- name: execSlotLock
-- Serializes the starts of one flow's executions until the transaction
-- ends, so the count that follows and the start are one decision.
SELECT pg_advisory_xact_lock(hashtextextended('osprey.slot/' || $1 || '/' || $2, 0));

-- name: execSlotCheck
-- Raises (SQLSTATE OSNS1) when $5 or more other executions of the flow are
-- active: the save's batch, this lock and count included, rolls back.
SELECT osprey_fail('OSNS1', n || ' of ' || $5::bigint || ' running')
FROM (SELECT count(*) AS n FROM executions
      WHERE namespace = $1 AND flow_id = $2 AND id <> $3 AND state = ANY ($4)) AS c
WHERE n >= $5::bigint;

-- name: cmdInsert
INSERT INTO commands (execution_id, payload, created) VALUES ($1, $2, $3)
RETURNING seq;

-- name: cmdSendIfExists
INSERT INTO commands (execution_id, payload, created)
SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM executions WHERE id = $1);

-- name: cmdList
SELECT seq, payload, created FROM commands WHERE execution_id = $1 ORDER BY seq;

-- name: cmdListAll
-- cmdList for every execution of $1.
SELECT execution_id, seq, payload, created FROM commands WHERE execution_id = ANY ($1) ORDER BY seq;

-- name: cmdAck
DELETE FROM commands WHERE seq = ANY ($1);

-- name: cmdDeleteByExecution
DELETE FROM commands WHERE execution_id = $1;

-- name: execClaim
-- SKIP LOCKED lets concurrent executors claim disjoint rows without
-- waiting; the inner WHERE repeats the partial index's condition.
-- Claims commit without waiting for the disk (synchronous_commit off for
-- this transaction only): a claim lost to a crash of the database is a
-- lease that ran out, which the queue recovers from by design, and any
-- later write that depends on it (the step's Save, a job's result) waits
-- for the flush that makes both durable, in order.
WITH c AS (
    SELECT id FROM executions
    WHERE (dirty OR wake_at IS NOT NULL OR lease_owner IS NOT NULL)
      AND ((lease_owner IS NULL AND (dirty OR wake_at <= $3))
           OR (lease_owner IS NOT NULL AND lease_until <= $3))
    -- oldest first, so that under load no execution waits behind newer ones
    ORDER BY start_date, id
    LIMIT $4
    FOR UPDATE SKIP LOCKED)
UPDATE executions e
SET lease_owner = $1, lease_until = $2, dirty = false, wake_at = NULL
FROM c, set_config('synchronous_commit', 'off', true) AS async
WHERE e.id = c.id
RETURNING e.id;

-- name: jobInsert
-- turn: the job's position among those its step queued (see jobClaim).
INSERT INTO jobs (id, execution_id, task_run_id, attempt, payload, state, created, turn)
VALUES ($1, $2, $3, $4, $5, 'QUEUED', $6, $7);

-- name: jobClaim
-- By turn, then oldest first: every execution's first queued job comes
-- before any execution's second, so a wide fan-out cannot starve the rest.
-- It commits without waiting for the disk, as execClaim does and for the
-- same reason.
WITH c AS (
    SELECT seq FROM jobs WHERE state = 'QUEUED'
    ORDER BY turn, created, seq
    LIMIT $3
    FOR UPDATE SKIP LOCKED)
UPDATE jobs j SET state = 'RUNNING', owner = $1, lease_until = $2
FROM c, set_config('synchronous_commit', 'off', true) AS async
WHERE j.seq = c.seq
RETURNING j.seq, j.id, j.execution_id, j.task_run_id, j.attempt, j.payload, j.state, j.owner, j.lease_until,
          j.cancel, j.result, j.created, j.lost, j.expired;

-- name: jobHeartbeat
-- A lease renewal lost to a crash of the database is a missed heartbeat:
-- it commits without waiting for the disk, as the claims do.
UPDATE jobs SET lease_until = $1
FROM set_config('synchronous_commit', 'off', true) AS async
WHERE id = ANY ($2) AND owner = $3 AND state = 'RUNNING'
RETURNING id, cancel;

-- name: jobComplete
-- One statement: the result and the execution's dirty flag commit together.
WITH j AS (
    UPDATE jobs SET state = 'DONE', result = $1, lease_until = NULL
    WHERE id = $2 AND owner = $3 AND state = 'RUNNING'
    RETURNING execution_id),
d AS (
    -- an execution already dirty is left alone: no new row version per job
    UPDATE executions SET dirty = true WHERE id IN (SELECT execution_id FROM j) AND NOT dirty)
SELECT j.execution_id FROM j;

-- name: jobLockExecutions
-- Locks the executions of jobs $1 in the order of their ids, before
-- jobCompleteAll marks them dirty (one UPDATE locks rows in no promised
-- order): two workers' batches over the same executions never wait on
-- each other in a cycle.
SELECT e.id FROM executions AS e
WHERE e.id IN (SELECT execution_id FROM jobs WHERE id = ANY ($1))
ORDER BY e.id
FOR NO KEY UPDATE OF e;

-- name: jobCompleteAll
-- Jobs $1 with results $2, of owner $3: the results and their executions'
-- dirty flags in one statement. Returns the jobs completed; the others
-- were no longer owner's.
WITH j AS (
    UPDATE jobs SET state = 'DONE', result = r.result, lease_until = NULL
    FROM unnest($1::text[], $2::bytea[]) AS r(id, result)
    WHERE jobs.id = r.id AND jobs.owner = $3 AND jobs.state = 'RUNNING'
    RETURNING jobs.id, jobs.execution_id),
d AS (
    -- an execution already dirty is left alone: no new row version per job
    UPDATE executions SET dirty = true WHERE id IN (SELECT execution_id FROM j) AND NOT dirty)
SELECT id FROM j;

-- name: jobAck
DELETE FROM jobs WHERE id = ANY ($1) AND state = 'DONE';

-- name: jobCancelQueued
-- A kill removes the queued jobs of the task runs it ended in one
-- statement; no worker needs to claim them.
DELETE FROM jobs WHERE state = 'QUEUED' AND id = ANY ($1);

-- name: jobCancel
-- The running ones are flagged: their workers' heartbeats stop them.
UPDATE jobs SET cancel = true WHERE state = 'RUNNING' AND id = ANY ($1);

-- name: jobRequeue
-- A job whose lease ran out was lost with its worker: counted, so that
-- a task that crashes its worker is not run forever.
UPDATE jobs SET state = 'QUEUED', owner = '', lease_until = NULL, lost = lost + 1, expired = expired + 1
WHERE state = 'RUNNING' AND lease_until <= $1;

-- name: jobRelease
-- A stopping worker hands a job back: queued at once, counted as lost
-- but not as expired.
UPDATE jobs SET state = 'QUEUED', owner = '', lease_until = NULL, lost = lost + 1
WHERE id = $1 AND owner = $2 AND state = 'RUNNING';

-- name: jobResults
-- Without the payload, which the executor that reads the results wrote
-- itself: it carries the task's variables, the largest column by far.
SELECT seq, id, execution_id, task_run_id, attempt, NULL, state, owner, lease_until, cancel, result, created, lost, expired
FROM jobs WHERE execution_id = $1 AND state = 'DONE' ORDER BY seq;

-- name: jobResultsAll
-- jobResults for every execution of $1, without the payload as well.
SELECT seq, id, execution_id, task_run_id, attempt, NULL, state, owner, lease_until, cancel, result, created, lost, expired
FROM jobs WHERE execution_id = ANY ($1) AND state = 'DONE' ORDER BY seq;

-- name: jobDeleteByExecution
DELETE FROM jobs WHERE execution_id = $1;

-- name: logLock
-- Serializes the appends of each execution in $1 so that, within one
-- execution, Seq order is commit order: a follower (which reads one
-- execution's lines "after seq N") never misses a row committed later with
-- a smaller seq. Appends to different executions commit side by side and
-- share disk flushes; one lock for all serialized every append, flush
-- included. Locks are taken in hash order, so appends never wait on each
-- other in a cycle.
SELECT count(pg_advisory_xact_lock(h)) FROM (
    SELECT DISTINCT hashtextextended('osprey.log/' || e, 0) AS h FROM unnest($1::text[]) AS e
    ORDER BY h) AS l;

-- name: logInsert
INSERT INTO logs (execution_id, tenant_id, namespace, flow_id, task_id, task_run_id, attempt_number,
                  trigger_id, ts, level, level_num, thread, message)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
                     $8::text[], $9::timestamptz[], $10::text[], $11::smallint[], $12::text[], $13::text[])
RETURNING seq;

-- name: logList
SELECT seq, execution_id, tenant_id, namespace, flow_id, task_id, task_run_id, attempt_number,
       trigger_id, ts, level, thread, message
FROM logs
WHERE execution_id = $1
  AND ($2 = '' OR task_run_id = $2)
  AND ($3 = '' OR task_id = $3)
  AND level_num >= $4
  AND seq > $5
ORDER BY seq
LIMIT $6;

-- name: logDeleteByExecution
DELETE FROM logs WHERE execution_id = $1;

-- name: logPurge
-- $4 is a bit set of level_num values (0: every level); $5 and $6 bound ts.
DELETE FROM logs
WHERE ($1 = '' OR execution_id = $1)
  AND ($2 = '' OR namespace = $2 OR ($3 = '' AND namespace >= $2 || '.' AND namespace < $2 || '/'))
  AND ($3 = '' OR flow_id = $3)
  AND ($4::integer = 0 OR (($4::integer >> level_num) & 1) = 1)
  AND ($5::timestamptz IS NULL OR ts >= $5)
  AND ($6::timestamptz IS NULL OR ts <= $6);

-- name: triggerGet
SELECT namespace, flow_id, trigger_id, next, last, disabled, data, updated
FROM triggers WHERE namespace = $1 AND flow_id = $2 AND trigger_id = $3;

-- name: triggerList
SELECT namespace, flow_id, trigger_id, next, last, disabled, data, updated
FROM triggers ORDER BY namespace, flow_id, trigger_id;

-- name: triggerPut
INSERT INTO triggers (namespace, flow_id, trigger_id, next, last, disabled, data, updated)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (namespace, flow_id, trigger_id) DO UPDATE
SET next = excluded.next, last = excluded.last, disabled = excluded.disabled,
    data = excluded.data, updated = excluded.updated;

-- name: triggerInsertNew
INSERT INTO triggers (namespace, flow_id, trigger_id, next, last, disabled, data, updated)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (namespace, flow_id, trigger_id) DO NOTHING;

-- name: triggerAdvance
-- A concurrent advance holds the row lock; once it commits this one
-- re-reads the row and no longer matches.
UPDATE triggers SET next = $4, last = $5, disabled = $6, data = $7, updated = $8
WHERE namespace = $1 AND flow_id = $2 AND trigger_id = $3 AND next IS NOT DISTINCT FROM $9;

-- name: triggerDelete
DELETE FROM triggers WHERE namespace = $1 AND flow_id = $2 AND trigger_id = $3;

-- name: secretPut
INSERT INTO secrets (namespace, key, tenant_id, ciphertext, description, tags, updated)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (namespace, key) DO UPDATE
SET tenant_id = excluded.tenant_id, ciphertext = excluded.ciphertext,
    description = excluded.description, tags = excluded.tags, updated = excluded.updated;

-- name: secretGet
SELECT namespace, key, tenant_id, ciphertext, description, tags, updated
FROM secrets WHERE namespace = $1 AND key = $2;

-- name: secretList
SELECT namespace, key, tenant_id, ciphertext, description, tags, updated
FROM secrets WHERE $1 = '' OR namespace = $1 ORDER BY namespace, key;

-- name: secretDelete
DELETE FROM secrets WHERE namespace = $1 AND key = $2;

-- name: kvPut
-- Overwriting keeps the entry's creation time, unless the row it replaces
-- had expired: that entry was already gone, so this one starts afresh.
INSERT INTO kv (namespace, key, tenant_id, type, value, description, expires, created, updated)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
ON CONFLICT (namespace, key) DO UPDATE
SET tenant_id = excluded.tenant_id, type = excluded.type, value = excluded.value,
    description = excluded.description, expires = excluded.expires, updated = excluded.updated,
    created = CASE WHEN kv.expires <= excluded.updated THEN excluded.created ELSE kv.created END;

-- name: kvGet
SELECT namespace, key, tenant_id, type, value, description, expires, created, updated
FROM kv WHERE namespace = $1 AND key = $2 AND (expires IS NULL OR expires > $3);

-- name: kvList
SELECT namespace, key, tenant_id, type, value, description, expires, created, updated
FROM kv WHERE ($1 = '' OR namespace = $1) AND (expires IS NULL OR expires > $2) ORDER BY namespace, key;

-- name: kvDelete
-- Removes the row even when it has expired, and says whether it was live.
DELETE FROM kv WHERE namespace = $1 AND key = $2
RETURNING expires IS NULL OR expires > $3;

-- name: kvPurgeScan
-- The entries of a namespace (and of its children with $2), expired
-- included, locked until the purge's transaction ends.
SELECT namespace, key, expires FROM kv
WHERE namespace = $1 OR ($2::boolean AND namespace >= $1 || '.' AND namespace < $1 || '/')
ORDER BY namespace, key
FOR UPDATE;

-- name: filePut
-- Overwriting keeps the file's creation time. The cast picks which
-- octet_length: $4 has no type yet where it is read.
INSERT INTO files (namespace, path, tenant_id, content, size, created, updated)
VALUES ($1, $2, $3, $4, octet_length($4::bytea), $5, $5)
ON CONFLICT (namespace, path) DO UPDATE
SET tenant_id = excluded.tenant_id, content = excluded.content, size = excluded.size,
    updated = excluded.updated;

-- name: fileGet
SELECT namespace, path, tenant_id, content, size, created, updated
FROM files WHERE namespace = $1 AND path = $2;

-- name: fileList
-- $2 is the prefix itself, $3 the prefix of the paths under it (see
-- files.go). starts_with rather than LIKE: paths may hold '_' and '%'. No
-- content: listings give sizes only, without reading TOASTed content.
SELECT namespace, path, tenant_id, size, created, updated
FROM files WHERE namespace = $1 AND (path = $2 OR starts_with(path, $3))
ORDER BY path;

-- name: fileDelete
-- Same matching as fileList: the file at $2 and every file under $3.
DELETE FROM files WHERE namespace = $1 AND (path = $2 OR starts_with(path, $3));

-- name: notify
SELECT pg_notify('osprey', $1);

-- name: notifyEach
SELECT pg_notify('osprey', t) FROM unnest($1::text[]) AS t;

-- name: notifyAsync
-- The notifier's statement, alone in its transaction: set_config(…, true)
-- lasts until that transaction ends, so its commit does not wait for the
-- disk, and the lock PostgreSQL holds over a notifying commit is held for
-- moments, not for a flush.
SELECT pg_notify('osprey', t) FROM set_config('synchronous_commit', 'off', true), unnest($1::text[]) AS t;

-- name: nsPut
INSERT INTO namespaces (namespace, allowed, updated) VALUES ($1, $2, $3)
ON CONFLICT (namespace) DO UPDATE SET allowed = excluded.allowed, updated = excluded.updated;

-- name: nsGet
SELECT namespace, allowed, updated FROM namespaces WHERE namespace = $1;

-- name: nsList
SELECT namespace, allowed, updated FROM namespaces ORDER BY namespace;

-- name: queueStats
SELECT (SELECT count(*) FROM jobs WHERE state = 'QUEUED'),
       (SELECT count(*) FROM jobs WHERE state = 'RUNNING'),
       (SELECT min(created) FROM jobs WHERE state = 'QUEUED'),
       (SELECT count(*) FROM executions WHERE dirty);

-- name: execLatest
-- The newest execution of each flow in $1 (a JSON list of
-- {"namespace","id"}), one index probe on executions_flow per flow.
SELECT l.doc, coalesce((SELECT array_agg(t.doc ORDER BY t.pos) FROM task_runs AS t WHERE t.execution_id = l.id), '{}') FROM jsonb_to_recordset($1::jsonb) AS f(namespace text, id text)
CROSS JOIN LATERAL (
    SELECT id, doc FROM executions AS e
    WHERE e.namespace = f.namespace AND e.flow_id = f.id
    ORDER BY e.start_date DESC, e.id DESC LIMIT 1) AS l;

-- name: execDaily
-- Executions started in [$1, $2) counted by day (days since the epoch at
-- $3 seconds from UTC) and state.
SELECT floor((extract(epoch FROM start_date) + $3::bigint) / 86400)::bigint AS day, state, count(*)
FROM executions
WHERE start_date >= $1 AND start_date < $2
  AND ($4 = '' OR namespace = $4 OR (namespace >= $4 || '.' AND namespace < $4 || '/'))
  AND ($5 = '' OR flow_id = $5)
GROUP BY day, state
ORDER BY day, state;
