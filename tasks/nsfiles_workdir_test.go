package tasks

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
	"github.com/ospreyhq/osprey/worker"
)

// TestUploadFilesFromWorkingDirectory: UploadFiles' files patterns select
// files of the task's working directory, kept at their relative paths
// under destination (Kestra's UploadFilesTest#shouldPutFileFromRegex, with
// its "glob:**application**", and the documented "glob:**/dbt/**"). The
// task runs in a real worker on SQLite; a wrapper first writes the files a
// WorkingDirectory's earlier tasks would have left.
func TestUploadFilesFromWorkingDirectory(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	task := &flow.Task{ID: "upload", Type: pUploadFiles}
	f := &flow.Flow{ID: "f", Namespace: "n", Revision: 1, Tasks: []*flow.Task{task}}
	now := time.Now()
	tr := &flow.TaskRun{ID: "tr1", ExecutionID: "ex1", Namespace: "n", FlowID: "f", TaskID: task.ID, State: flow.NewStateInfo(flow.StateRunning, now)}
	ex := &flow.Execution{ID: "ex1", Namespace: "n", FlowID: "f", FlowRevision: 1, State: flow.NewStateInfo(flow.StateRunning, now), TaskRunList: []*flow.TaskRun{tr}}
	require.NoError(t, st.Executions().Create(ctx, ex))
	payload, err := json.Marshal(engine.Payload{Namespace: "n", FlowID: "f", Revision: 1, TaskID: task.ID, TaskRun: tr, Attempt: 1,
		Vars: map[string]any{"flow": map[string]any{"namespace": "n", "id": "f"}}})
	require.NoError(t, err)
	_, err = st.Executions().Save(ctx, store.SaveParams{Execution: ex, Version: 1, Jobs: []store.Job{{ID: "j1", ExecutionID: "ex1", TaskRunID: "tr1", Attempt: 1, Payload: payload}}})
	require.NoError(t, err)
	up := &UploadFiles{Files: []any{"glob:**/dbt/**", "application*"}, Destination: "/proj"}
	w := worker.New(worker.Options{Store: st, Tasks: workdirTasks{up}, Flows: workdirFlows{f}, Renderers: plainRenderer{},
		Threads: 1, Poll: 10 * time.Millisecond, Lease: time.Hour, TmpDir: t.TempDir()})
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
	require.Equal(t, flow.StateSuccess, r.State, r.Error)
	files, err := st.Files().List(ctx, "n", "/")
	require.NoError(t, err)
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	require.Equal(t, []string{"/proj/application-test.yml", "/proj/project/dbt/b.sql", "/proj/project/dbt/models/a.sql"}, paths,
		"other.txt and nested/application.yml match no pattern")
	got, err := st.Files().Get(ctx, "n", "/proj/project/dbt/models/a.sql")
	require.NoError(t, err)
	require.Equal(t, "select 1", string(got.Content))
}

// workdirTasks runs its UploadFiles after writing a working directory's
// files into the task run's directory.
type workdirTasks struct{ up *UploadFiles }

func (w workdirTasks) Runnable(*flow.Task) (worker.Runnable, error) { return w, nil }

func (w workdirTasks) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	for name, content := range map[string]string{
		"project/dbt/models/a.sql": "select 1", "project/dbt/b.sql": "select 2", "other.txt": "no",
		"application-test.yml": "a: 1", "nested/application.yml": "b: 2",
	} {
		p := filepath.Join(rc.TmpDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			return nil, err
		}
	}
	return w.up.Run(ctx, rc)
}

type workdirFlows struct{ f *flow.Flow }

func (w workdirFlows) Get(context.Context, string, string, int) (*flow.Flow, error) { return w.f, nil }

// plainRenderer renders every template as itself.
type plainRenderer struct{}

func (plainRenderer) ForJob(func(string)) worker.Renderer { return plainRenderer{} }
func (plainRenderer) Render(_ context.Context, tmpl string, _ map[string]any) (string, error) {
	return tmpl, nil
}
func (plainRenderer) RenderTyped(_ context.Context, tmpl string, _ map[string]any) (any, error) {
	return tmpl, nil
}
func (plainRenderer) RenderValue(_ context.Context, v any, _ map[string]any) (any, error) {
	return v, nil
}
