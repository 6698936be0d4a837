package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
	"github.com/ospreyhq/osprey/worker"
)

// memStorage keeps what is put, in memory: all a log file needs.
type memStorage struct {
	storage.Storage
	mu    sync.Mutex
	files map[string][]byte
}

func (m *memStorage) Put(_ context.Context, p string, r io.Reader) (int64, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[p] = b
	return int64(len(b)), nil
}

func (m *memStorage) file(p string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[p]
	return b, ok
}

// refusingStorage stores nothing, as a storage account that denies writes.
type refusingStorage struct{ storage.Storage }

func (refusingStorage) Put(context.Context, string, io.Reader) (int64, error) {
	return 0, errors.New("403 AuthorizationPermissionMismatch")
}

// runLogToFile runs the "leaks" task (it logs a secret, then fails) with
// logToFile on a worker whose internal storage is st.
func runLogToFile(t *testing.T, files storage.Storage) (engine.Result, []flow.LogEntry) {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	task := &flow.Task{ID: "leaks", Type: "fake", LogToFile: true}
	f := &flow.Flow{ID: "f", Namespace: "n", Revision: 1, Tasks: []*flow.Task{task}}
	now := time.Now()
	tr := &flow.TaskRun{ID: "tr1", ExecutionID: "ex1", Namespace: "n", FlowID: "f", TaskID: "leaks", State: flow.NewStateInfo(flow.StateRunning, now)}
	ex := &flow.Execution{ID: "ex1", Namespace: "n", FlowID: "f", FlowRevision: 1, State: flow.NewStateInfo(flow.StateRunning, now), TaskRunList: []*flow.TaskRun{tr}}
	require.NoError(t, st.Executions().Create(ctx, ex))
	payload, err := json.Marshal(engine.Payload{Namespace: "n", FlowID: "f", Revision: 1, TaskID: "leaks", TaskRun: tr, Attempt: 1, Vars: map[string]any{}})
	require.NoError(t, err)
	_, err = st.Executions().Save(ctx, store.SaveParams{Execution: ex, Version: 1, Jobs: []store.Job{{ID: "j1", ExecutionID: "ex1", TaskRunID: "tr1", Attempt: 1, Payload: payload}}})
	require.NoError(t, err)
	w := worker.New(worker.Options{Store: st, Tasks: fakeTasks{}, Flows: fakeFlows{f}, Renderers: secretRenderer{}, Storage: files, Threads: 1, Poll: 10 * time.Millisecond, Lease: time.Hour, TmpDir: t.TempDir()})
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = w.Stop(ctx)
	})
	var res []store.Job
	require.Eventually(t, func() bool {
		res, err = st.Queue().Results(ctx, "ex1")
		return err == nil && len(res) == 1
	}, 10*time.Second, 10*time.Millisecond)
	var r engine.Result
	require.NoError(t, flow.DecodeJSON(res[0].Result, &r))
	logs, err := st.Logs().List(ctx, store.LogQuery{ExecutionID: "ex1"})
	require.NoError(t, err)
	return r, logs
}

// TestLogToFile: the lines go to a file of the task run, masked, and not
// to the execution's log; the worker's own ERROR line about the failure
// goes there too.
func TestLogToFile(t *testing.T) {
	t.Parallel()
	files := &memStorage{files: map[string][]byte{}}
	r, logs := runLogToFile(t, files)
	require.Equal(t, flow.StateFailed, r.State)
	require.Empty(t, logs, "a logToFile task's lines stay out of the execution's log")
	require.Regexp(t, `^kestra:///n/f/executions/ex1/tasks/leaks/tr1/log-[0-9a-f]{8}\.txt$`, r.LogFile)
	b, ok := files.file(strings.TrimPrefix(r.LogFile, "kestra://"))
	require.True(t, ok, "the log file is stored")
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	require.Len(t, lines, 2, string(b))
	require.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO  worker-\S+ flow\.f\.ex1\.tr1 the value is \*\*\*\*\*\*$`, lines[0])
	require.Regexp(t, `ERROR worker-\S+ flow\.f\.ex1\.tr1 failed with \*\*\*\*\*\*$`, lines[1])
	require.NotContains(t, string(b), "s3cret")
}

// TestLogToFileRefused: a log file that cannot be stored leaves a WARN
// line saying why in the execution's log, and no logFile.
func TestLogToFileRefused(t *testing.T) {
	t.Parallel()
	r, logs := runLogToFile(t, refusingStorage{})
	require.Equal(t, flow.StateFailed, r.State)
	require.Empty(t, r.LogFile)
	require.Len(t, logs, 1)
	require.Equal(t, "WARN", logs[0].Level)
	require.Contains(t, logs[0].Message, "logToFile: store log file: 403 AuthorizationPermissionMismatch")
}
