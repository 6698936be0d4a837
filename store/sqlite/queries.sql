-- Every statement the driver runs, named with "-- name: X" and prepared once
-- at Open. Parameters are numbered (?1) so one value can be used twice.
-- Times are microseconds since the Unix epoch.
--
-- LIMIT and OFFSET are written "?N + 0", never a bare "?N": SQLite's planner
-- reads a bare parameter's bound value there and marks the statement to be
-- re-prepared whenever that value changes, so a claim whose limit follows
-- the free threads was parsed and planned anew on nearly every call (a
-- fifth of the server's CPU in a 40-task chain).

-- name: flowLatest
SELECT namespace, id, revision, tenant_id, source, deleted, updated
FROM flows WHERE namespace = ?1 AND id = ?2 AND latest = 1;

-- name: flowRevision
SELECT namespace, id, revision, tenant_id, source, deleted, updated
FROM flows WHERE namespace = ?1 AND id = ?2 AND revision = ?3;

-- name: flowRevisions
SELECT namespace, id, revision, tenant_id, source, deleted, updated
FROM flows WHERE namespace = ?1 AND id = ?2 ORDER BY revision;

-- name: flowUnsetLatest
UPDATE flows SET latest = 0 WHERE namespace = ?1 AND id = ?2 AND latest = 1;

-- name: flowInsert
INSERT INTO flows (namespace, id, revision, source, deleted, latest, updated)
VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6);

-- name: flowSearch
SELECT namespace, id, revision, tenant_id, source, deleted, updated
FROM flows
WHERE latest = 1 AND deleted = 0
  AND (?1 = '' OR namespace = ?1 OR (namespace >= ?1 || '.' AND namespace < ?1 || '/'))
  AND instr(lower(id), lower(?2)) > 0
ORDER BY namespace, id
LIMIT ?3 + 0 OFFSET ?4 + 0;

-- name: flowCount
SELECT count(*)
FROM flows
WHERE latest = 1 AND deleted = 0
  AND (?1 = '' OR namespace = ?1 OR (namespace >= ?1 || '.' AND namespace < ?1 || '/'))
  AND instr(lower(id), lower(?2)) > 0;

-- name: execInsert
INSERT INTO executions (id, namespace, flow_id, state, start_date, labels, parent_id, doc, version, dirty)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, 1);

-- name: execGet
SELECT doc, version FROM executions WHERE id = ?1;

-- name: execState
SELECT state FROM executions WHERE id = ?1;

-- name: execExists
SELECT 1 FROM executions WHERE id = ?1;

-- name: execSave
-- Namespace, flow, parent and start date are fixed at Create; leaving them
-- out of SET spares the indexes on them a rewrite on every step.
UPDATE executions
SET state = ?3, labels = ?4, doc = ?5, version = version + 1, wake_at = ?6,
    lease_until = CASE WHEN lease_owner = ?7 THEN NULL ELSE lease_until END,
    lease_owner = CASE WHEN lease_owner = ?7 THEN NULL ELSE lease_owner END
WHERE id = ?1 AND version = ?2
RETURNING version, dirty;

-- name: taskRunList
SELECT doc FROM task_runs WHERE execution_id = ?1 ORDER BY pos;

-- name: taskRunLists
-- The task runs of several executions (?1, a JSON list of ids), by
-- execution then position.
SELECT execution_id, doc FROM task_runs
WHERE execution_id IN (SELECT value FROM json_each(?1))
ORDER BY execution_id, pos;

-- name: taskRunNextPos
SELECT coalesce(max(pos), -1) + 1 FROM task_runs WHERE execution_id = ?1;

-- name: taskRunPut
-- A stored task run keeps its position; a new one takes ?2.
INSERT INTO task_runs (execution_id, pos, id, doc) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (execution_id, id) DO UPDATE SET doc = excluded.doc;

-- name: taskRunDelete
DELETE FROM task_runs WHERE execution_id = ?1 AND id = ?2;

-- name: taskRunDeleteAll
DELETE FROM task_runs WHERE execution_id = ?1;

-- name: execMarkDirty
UPDATE executions SET dirty = 1 WHERE id = ?1;

-- name: execSearch
SELECT id, doc FROM executions
WHERE (?1 = '' OR namespace = ?1 OR (namespace >= ?1 || '.' AND namespace < ?1 || '/'))
  AND (?2 = '' OR flow_id = ?2)
  AND (?3 IS NULL OR state IN (SELECT value FROM json_each(?3)))
  AND (?4 IS NULL OR NOT EXISTS (
        SELECT 1 FROM json_each(?4) AS want
        WHERE want.value NOT IN (SELECT value FROM json_each(executions.labels))))
  AND (?5 = '' OR parent_id = ?5)
  AND (?6 IS NULL OR start_date >= ?6)
  AND (?7 IS NULL OR start_date <= ?7)
ORDER BY start_date DESC, id DESC
LIMIT ?8 + 0 OFFSET ?9 + 0;

-- name: execCount
SELECT count(*) FROM executions
WHERE (?1 = '' OR namespace = ?1 OR (namespace >= ?1 || '.' AND namespace < ?1 || '/'))
  AND (?2 = '' OR flow_id = ?2)
  AND (?3 IS NULL OR state IN (SELECT value FROM json_each(?3)))
  AND (?4 IS NULL OR NOT EXISTS (
        SELECT 1 FROM json_each(?4) AS want
        WHERE want.value NOT IN (SELECT value FROM json_each(executions.labels))))
  AND (?5 = '' OR parent_id = ?5)
  AND (?6 IS NULL OR start_date >= ?6)
  AND (?7 IS NULL OR start_date <= ?7);

-- name: execCountActive
SELECT count(*) FROM executions
WHERE namespace = ?1 AND flow_id = ?2 AND state IN (SELECT value FROM json_each(?3));

-- name: execDelete
DELETE FROM executions WHERE id = ?1;

-- name: execCountOthersActive
-- The concurrency slot check of Save: the flow's active executions other
-- than the one being started, counted inside the writer's transaction.
SELECT count(*) FROM executions
WHERE namespace = ?1 AND flow_id = ?2 AND id <> ?3 AND state IN (SELECT value FROM json_each(?4));

-- name: cmdInsert
INSERT INTO commands (execution_id, payload, created) VALUES (?1, ?2, ?3)
RETURNING seq;

-- name: cmdList
SELECT seq, payload, created FROM commands WHERE execution_id = ?1 ORDER BY seq;

-- name: cmdAck
DELETE FROM commands WHERE seq = ?1;

-- name: cmdDeleteByExecution
DELETE FROM commands WHERE execution_id = ?1;

-- name: execClaim
-- The inner WHERE repeats the partial index's condition so the planner uses it.
UPDATE executions
SET lease_owner = ?1, lease_until = ?2, dirty = 0, wake_at = NULL
WHERE id IN (
    SELECT id FROM executions
    WHERE (dirty = 1 OR wake_at IS NOT NULL OR lease_owner IS NOT NULL)
      AND ((lease_owner IS NULL AND (dirty = 1 OR wake_at <= ?3))
           OR (lease_owner IS NOT NULL AND lease_until <= ?3))
    -- oldest first, so that under load no execution waits behind newer ones
    ORDER BY start_date, id
    LIMIT ?4 + 0)
RETURNING id;

-- name: jobInsert
-- turn: the job's position among those its step queued (see jobClaim).
INSERT INTO jobs (id, execution_id, task_run_id, attempt, payload, state, created, turn)
VALUES (?1, ?2, ?3, ?4, ?5, 'QUEUED', ?6, ?7);

-- name: jobClaim
-- By turn, then oldest first: every execution's first queued job comes
-- before any execution's second, so a wide fan-out cannot starve the rest.
UPDATE jobs SET state = 'RUNNING', owner = ?1, lease_until = ?2
WHERE seq IN (SELECT seq FROM jobs WHERE state = 'QUEUED' ORDER BY turn, created, seq LIMIT ?3 + 0)
RETURNING seq, id, execution_id, task_run_id, attempt, payload, state, owner, lease_until, cancel, result, created, lost, expired;

-- name: jobHeartbeat
UPDATE jobs SET lease_until = ?1
WHERE id = ?2 AND owner = ?3 AND state = 'RUNNING'
RETURNING cancel;

-- name: jobComplete
UPDATE jobs SET state = 'DONE', result = ?1, lease_until = NULL
WHERE id = ?2 AND owner = ?3 AND state = 'RUNNING'
RETURNING execution_id;

-- name: jobAck
DELETE FROM jobs WHERE id = ?1 AND state = 'DONE';

-- name: jobCancelQueued
-- A kill removes the queued jobs of the task runs it ended in one
-- statement (?1, a JSON list of job ids); no worker needs to claim them.
DELETE FROM jobs WHERE state = 'QUEUED' AND id IN (SELECT value FROM json_each(?1));

-- name: jobCancel
-- The running ones are flagged: their workers' heartbeats stop them.
UPDATE jobs SET cancel = 1 WHERE state = 'RUNNING' AND id IN (SELECT value FROM json_each(?1));

-- name: jobRequeue
-- A job whose lease ran out was lost with its worker: counted, so that
-- a task that crashes its worker is not run forever.
UPDATE jobs SET state = 'QUEUED', owner = '', lease_until = NULL, lost = lost + 1, expired = expired + 1
WHERE state = 'RUNNING' AND lease_until <= ?1;

-- name: jobRelease
-- A stopping worker hands a job back: queued at once, counted as lost
-- but not as expired.
UPDATE jobs SET state = 'QUEUED', owner = '', lease_until = NULL, lost = lost + 1
WHERE id = ?1 AND owner = ?2 AND state = 'RUNNING';

-- name: jobResults
-- Without the payload, which the executor that reads the results wrote
-- itself: it carries the task's variables, the largest column by far.
SELECT seq, id, execution_id, task_run_id, attempt, NULL, state, owner, lease_until, cancel, result, created, lost, expired
FROM jobs WHERE execution_id = ?1 AND state = 'DONE' ORDER BY seq;

-- name: jobDeleteByExecution
DELETE FROM jobs WHERE execution_id = ?1;

-- name: logInsert
INSERT INTO logs (execution_id, tenant_id, namespace, flow_id, task_id, task_run_id, attempt_number,
                  trigger_id, ts, level, level_num, thread, message)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
RETURNING seq;

-- name: logList
SELECT seq, execution_id, tenant_id, namespace, flow_id, task_id, task_run_id, attempt_number,
       trigger_id, ts, level, thread, message
FROM logs
WHERE execution_id = ?1
  AND (?2 = '' OR task_run_id = ?2)
  AND (?3 = '' OR task_id = ?3)
  AND level_num >= ?4
  AND seq > ?5
ORDER BY seq
LIMIT ?6 + 0;

-- name: logDeleteByExecution
DELETE FROM logs WHERE execution_id = ?1;

-- name: logPurge
-- ?4 is a bit set of level_num values (0: every level); ?5 and ?6 bound ts.
DELETE FROM logs
WHERE (?1 = '' OR execution_id = ?1)
  AND (?2 = '' OR namespace = ?2 OR (?3 = '' AND namespace >= ?2 || '.' AND namespace < ?2 || '/'))
  AND (?3 = '' OR flow_id = ?3)
  AND (?4 = 0 OR ((?4 >> level_num) & 1) = 1)
  AND (?5 IS NULL OR ts >= ?5)
  AND (?6 IS NULL OR ts <= ?6);

-- name: triggerGet
SELECT namespace, flow_id, trigger_id, next, last, disabled, data, updated
FROM triggers WHERE namespace = ?1 AND flow_id = ?2 AND trigger_id = ?3;

-- name: triggerList
SELECT namespace, flow_id, trigger_id, next, last, disabled, data, updated
FROM triggers ORDER BY namespace, flow_id, trigger_id;

-- name: triggerPut
INSERT INTO triggers (namespace, flow_id, trigger_id, next, last, disabled, data, updated)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
ON CONFLICT (namespace, flow_id, trigger_id) DO UPDATE
SET next = excluded.next, last = excluded.last, disabled = excluded.disabled,
    data = excluded.data, updated = excluded.updated;

-- name: triggerInsertNew
INSERT INTO triggers (namespace, flow_id, trigger_id, next, last, disabled, data, updated)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
ON CONFLICT (namespace, flow_id, trigger_id) DO NOTHING;

-- name: triggerAdvance
-- "IS" compares NULLs as equal: a stored state without Next matches a nil prevNext.
UPDATE triggers SET next = ?4, last = ?5, disabled = ?6, data = ?7, updated = ?8
WHERE namespace = ?1 AND flow_id = ?2 AND trigger_id = ?3 AND next IS ?9;

-- name: triggerDelete
DELETE FROM triggers WHERE namespace = ?1 AND flow_id = ?2 AND trigger_id = ?3;

-- name: secretPut
INSERT INTO secrets (namespace, key, tenant_id, ciphertext, description, tags, updated)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (namespace, key) DO UPDATE
SET tenant_id = excluded.tenant_id, ciphertext = excluded.ciphertext,
    description = excluded.description, tags = excluded.tags, updated = excluded.updated;

-- name: secretGet
SELECT namespace, key, tenant_id, ciphertext, description, tags, updated
FROM secrets WHERE namespace = ?1 AND key = ?2;

-- name: secretList
SELECT namespace, key, tenant_id, ciphertext, description, tags, updated
FROM secrets WHERE ?1 = '' OR namespace = ?1 ORDER BY namespace, key;

-- name: secretDelete
DELETE FROM secrets WHERE namespace = ?1 AND key = ?2;

-- name: kvPut
-- Overwriting keeps the entry's creation time, unless the row it replaces
-- had expired: that entry was already gone, so this one starts afresh.
INSERT INTO kv (namespace, key, tenant_id, type, value, description, expires, created, updated)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
ON CONFLICT (namespace, key) DO UPDATE
SET tenant_id = excluded.tenant_id, type = excluded.type, value = excluded.value,
    description = excluded.description, expires = excluded.expires, updated = excluded.updated,
    created = CASE WHEN kv.expires <= excluded.updated THEN excluded.created ELSE kv.created END;

-- name: kvGet
SELECT namespace, key, tenant_id, type, value, description, expires, created, updated
FROM kv WHERE namespace = ?1 AND key = ?2 AND (expires IS NULL OR expires > ?3);

-- name: kvList
SELECT namespace, key, tenant_id, type, value, description, expires, created, updated
FROM kv WHERE (?1 = '' OR namespace = ?1) AND (expires IS NULL OR expires > ?2) ORDER BY namespace, key;

-- name: kvDelete
-- Removes the row even when it has expired, and says whether it was live.
DELETE FROM kv WHERE namespace = ?1 AND key = ?2
RETURNING expires IS NULL OR expires > ?3;

-- name: kvPurgeScan
-- The entries of a namespace (and of its children with ?2), expired included.
SELECT namespace, key, expires FROM kv
WHERE namespace = ?1 OR (?2 AND namespace >= ?1 || '.' AND namespace < ?1 || '/')
ORDER BY namespace, key;

-- name: filePut
-- Overwriting keeps the file's creation time. content is bound as a BLOB,
-- so length() counts bytes.
INSERT INTO files (namespace, path, tenant_id, content, size, created, updated)
VALUES (?1, ?2, ?3, ?4, length(?4), ?5, ?5)
ON CONFLICT (namespace, path) DO UPDATE
SET tenant_id = excluded.tenant_id, content = excluded.content, size = excluded.size,
    updated = excluded.updated;

-- name: fileGet
SELECT namespace, path, tenant_id, content, size, created, updated
FROM files WHERE namespace = ?1 AND path = ?2;

-- name: fileList
-- ?2 is the prefix itself, ?3 the prefix of the paths under it (see
-- files.go). substr rather than LIKE: paths may hold '_' and '%'. No
-- content: listings give sizes only.
SELECT namespace, path, tenant_id, size, created, updated
FROM files WHERE namespace = ?1 AND (path = ?2 OR substr(path, 1, length(?3)) = ?3)
ORDER BY path;

-- name: fileDelete
-- Same matching as fileList: the file at ?2 and every file under ?3.
DELETE FROM files WHERE namespace = ?1 AND (path = ?2 OR substr(path, 1, length(?3)) = ?3);

-- name: nsPut
INSERT INTO namespaces (namespace, allowed, updated) VALUES (?1, ?2, ?3)
ON CONFLICT (namespace) DO UPDATE SET allowed = excluded.allowed, updated = excluded.updated;

-- name: nsGet
SELECT namespace, allowed, updated FROM namespaces WHERE namespace = ?1;

-- name: nsList
SELECT namespace, allowed, updated FROM namespaces ORDER BY namespace;

-- name: queueStats
SELECT (SELECT count(*) FROM jobs WHERE state = 'QUEUED'),
       (SELECT count(*) FROM jobs WHERE state = 'RUNNING'),
       (SELECT min(created) FROM jobs WHERE state = 'QUEUED'),
       (SELECT count(*) FROM executions WHERE dirty = 1);

-- name: execLatest
-- The newest execution of each flow in ?1 (a JSON list of
-- {"namespace","id"}), one index probe on executions_flow per flow.
SELECT e.id, e.doc FROM json_each(?1) AS f
JOIN executions AS e ON e.id = (
    SELECT id FROM executions
    WHERE namespace = json_extract(f.value, '$.namespace') AND flow_id = json_extract(f.value, '$.id')
    ORDER BY start_date DESC, id DESC LIMIT 1);

-- name: execDaily
-- Executions started in [?1, ?2) (microseconds) counted by day (days since
-- the epoch at ?3 seconds from UTC) and state.
SELECT (start_date / 1000000 + ?3) / 86400 AS day, state, count(*) FROM executions
WHERE start_date >= ?1 AND start_date < ?2
  AND (?4 = '' OR namespace = ?4 OR (namespace >= ?4 || '.' AND namespace < ?4 || '/'))
  AND (?5 = '' OR flow_id = ?5)
GROUP BY day, state
ORDER BY day, state;
