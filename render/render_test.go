package render

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/expr"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/mask"
	"github.com/ospreyhq/osprey/store"
)

// fakeSecrets resolves from a map keyed "namespace/KEY".
type fakeSecrets map[string]string

func (f fakeSecrets) Get(_ context.Context, ns, key string) (string, error) {
	if v, ok := f[ns+"/"+key]; ok {
		return v, nil
	}
	return "", errors.New("secret '" + key + "' not found in namespace " + ns)
}

func vars(ns string) map[string]any {
	return map[string]any{
		"flow":      map[string]any{"namespace": ns, "id": "f"},
		"execution": map[string]any{"id": "ex1"},
	}
}

// renderCase is a template and what it renders to, or the error it gives.
type renderCase struct {
	name, tmpl, want, err string
}

// checkRenders renders every case with r in the namespace team.
func checkRenders(t *testing.T, r interface {
	Render(ctx context.Context, tmpl string, vars map[string]any) (string, error)
}, cases []renderCase) {
	t.Helper()
	for _, tc := range cases {
		out, err := r.Render(context.Background(), tc.tmpl, vars("team"))
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.name)
			continue
		}
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, out, tc.name)
	}
}

func TestSecretFunction(t *testing.T) {
	t.Parallel()
	r := &Renderer{Expr: expr.New(expr.Options{}), Secrets: fakeSecrets{
		"team/DB":    "p4ssw0rd",
		"other/API":  "k3y-value",
		"team/CREDS": `{"user":"svc","password":"hunter22"}`,
	}}
	var learnt []string
	job := r.ForJob(func(s string) { learnt = append(learnt, s) })
	cases := []renderCase{
		{"key", "{{ secret('DB') }}", "p4ssw0rd", ""},
		{"named namespace", "{{ secret('API', namespace='other') }}", "k3y-value", ""},
		{"subkey", "{{ secret('CREDS', subkey='password') }}", "hunter22", ""},
		{"missing subkey", "{{ secret('CREDS', subkey='nope') }}", "", `no subkey "nope"`},
		{"missing", "{{ secret('NOPE') }}", "", "not found"},
		{"no key", "{{ secret('') }}", "", "needs a key"},
	}
	checkRenders(t, job, cases)
	require.Contains(t, learnt, "p4ssw0rd", "every resolved value is taught to the job's masker")
	require.Contains(t, learnt, "hunter22")
}

func TestSecretLearntThroughContext(t *testing.T) {
	t.Parallel()
	r := &Renderer{Expr: expr.New(expr.Options{}), Secrets: fakeSecrets{"team/DB": "p4ssw0rd"}}
	var m mask.Masker
	_, err := r.Render(mask.NewContext(context.Background(), &m), "{{ secret('DB') }}", vars("team"))
	require.NoError(t, err)
	require.Equal(t, "x ******", m.Mask("x p4ssw0rd"))
}

func TestDeniedSecrets(t *testing.T) {
	t.Parallel()
	r := &Renderer{Expr: expr.New(expr.Options{}), Secrets: fakeSecrets{"team/DB": "p4ssw0rd"}, DeniedSecrets: "executor"}
	_, err := r.Render(context.Background(), "{{ secret('DB') }}", vars("team"))
	require.ErrorContains(t, err, "the executor may not resolve secrets")
}

func TestTasksWithStateFromTheStep(t *testing.T) {
	t.Parallel()
	r := &Renderer{Expr: expr.New(expr.Options{})}
	ex := &flow.Execution{ID: "ex1", TaskRunList: []*flow.TaskRun{
		{ID: "a", TaskID: "ok", State: flow.StateInfo{Current: flow.StateSuccess}},
		{ID: "b", TaskID: "bad", State: flow.StateInfo{Current: flow.StateFailed}},
	}}
	out, err := r.Render(flow.WithExecution(context.Background(), ex), "{{ tasksWithState('failed') | jq('.[].taskId') }}", vars("team"))
	require.NoError(t, err)
	require.Equal(t, `["bad"]`, out)
}

func TestCurrentEachOutput(t *testing.T) {
	t.Parallel()
	v := map[string]any{
		"parents": []any{map[string]any{"taskrun": map[string]any{"value": "inner"}}, map[string]any{"taskrun": map[string]any{"value": "outer"}}},
		"taskrun": map[string]any{"value": "leaf"},
	}
	outs := map[string]any{"outer": map[string]any{"inner": map[string]any{"leaf": map[string]any{"value": 42}}}}
	require.Equal(t, map[string]any{"value": 42}, currentEachOutput(outs, v))
}

// fakeKV reads entries from a map keyed "namespace/key".
type fakeKV map[string]store.KVRecord

func (f fakeKV) Get(_ context.Context, ns, key string) (store.KVRecord, error) {
	if r, ok := f[ns+"/"+key]; ok {
		return r, nil
	}
	return store.KVRecord{}, store.ErrNotFound
}

func TestKVFunction(t *testing.T) {
	t.Parallel()
	r := &Renderer{Expr: expr.New(expr.Options{}), KV: fakeKV{
		"team/greeting": {Type: "STRING", Value: []byte(`"hello"`)},
		"team/count":    {Type: "NUMBER", Value: []byte(`42`)},
		"team/conf":     {Type: "JSON", Value: []byte(`{"env":"prod","ports":[80,443]}`)},
		"other/flag":    {Type: "BOOLEAN", Value: []byte(`true`)},
	}}
	cases := []renderCase{
		{"text", "{{ kv('greeting') }}", "hello", ""},
		{"number stays an integer", "{{ kv('count') + 1 }}", "43", ""},
		{"JSON reads as an object", "{{ kv('conf').ports[1] }}", "443", ""},
		{"named namespace", "{{ kv('flag', namespace='other') }}", "true", ""},
		{"missing is an error", "{{ kv('nope') }}", "", "no such key in namespace team"},
		{"missing may read null", "{{ kv('nope', errorOnMissing=false) ?? 'none' }}", "none", ""},
		{"bad key", "{{ kv('a b') }}", "", "is invalid"},
	}
	checkRenders(t, r, cases)
	_, err := (&Renderer{Expr: expr.New(expr.Options{})}).Render(context.Background(), "{{ kv('greeting') }}", vars("team"))
	require.ErrorContains(t, err, "no key-value store")
}

// fakeFiles reads namespace files from a map keyed "namespace/path".
type fakeFiles map[string]string

func (f fakeFiles) Get(_ context.Context, ns, p string) (store.FileRecord, error) {
	if c, ok := f[ns+p]; ok {
		return store.FileRecord{Namespace: ns, Path: p, Content: []byte(c)}, nil
	}
	return store.FileRecord{}, store.ErrNotFound
}

func TestReadFunction(t *testing.T) {
	t.Parallel()
	r := &Renderer{Expr: expr.New(expr.Options{}), Files: fakeFiles{
		"team/queries/count.sql": "SELECT count(*) FROM t",
		"other/motd.txt":         "hello",
	}}
	cases := []renderCase{
		{"relative path", "{{ read('queries/count.sql') }}", "SELECT count(*) FROM t", ""},
		{"absolute path", "{{ read('/queries/count.sql') | upper }}", "SELECT COUNT(*) FROM T", ""},
		{"named namespace", "{{ read('motd.txt', namespace='other') }}", "hello", ""},
		{"missing", "{{ read('nope.txt') }}", "", "no namespace file /nope.txt in namespace team"},
		{"going up", "{{ read('../secrets') }}", "", "must not go up"},
		{"internal storage without one", "{{ read('kestra:///team/f/executions/ex1/x.txt') }}", "", "no internal storage here"},
	}
	checkRenders(t, r, cases)
}
