package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

var logTests = []test{
	{"AppendList", testLogAppendList},
	{"PurgeSelects", testLogPurge},
}

func testLogAppendList(t *testing.T, s store.Store) {
	ctx, ls, clock := t.Context(), s.Logs(), Clock(t)
	at := clock.Now()
	entry := func(tr, task, level, msg string) flow.LogEntry {
		at = at.Add(time.Millisecond)
		return flow.LogEntry{ExecutionID: "e1", Namespace: "acme", FlowID: "f", TaskID: task, TaskRunID: tr,
			AttemptNumber: 1, Timestamp: at, Level: level, Thread: "worker-1", Message: msg}
	}
	first := []flow.LogEntry{
		entry("tr1", "a", "INFO", "one"),
		entry("tr1", "a", "DEBUG", "two"),
		entry("tr2", "b", "WARN", "three"),
	}
	require.NoError(t, ls.Append(ctx, first))
	for i := 1; i < len(first); i++ {
		require.Greater(t, first[i].Seq, first[i-1].Seq, "Append assigns increasing Seq to the entries")
	}
	second := []flow.LogEntry{entry("tr2", "b", "ERROR", "four"), entry("tr3", "c", "TRACE", "five")}
	require.NoError(t, ls.Append(ctx, second))
	require.Greater(t, second[0].Seq, first[2].Seq)
	require.NoError(t, ls.Append(ctx, []flow.LogEntry{{ExecutionID: "e2", Namespace: "acme", FlowID: "f",
		Level: "INFO", Message: "elsewhere", Timestamp: at}}))
	require.NoError(t, ls.Append(ctx, nil))

	all, err := ls.List(ctx, store.LogQuery{ExecutionID: "e1"})
	require.NoError(t, err)
	require.Len(t, all, 5)
	want := append(append([]flow.LogEntry{}, first...), second...)
	for i := range want {
		require.Equal(t, want[i].Seq, all[i].Seq)
		require.Equal(t, want[i].Message, all[i].Message)
		require.Equal(t, want[i].Level, all[i].Level)
		require.Equal(t, want[i].TaskRunID, all[i].TaskRunID)
		require.Equal(t, want[i].TaskID, all[i].TaskID)
		require.Equal(t, "worker-1", all[i].Thread)
		require.Equal(t, 1, all[i].AttemptNumber)
		require.Equal(t, "acme", all[i].Namespace)
		require.Equal(t, "f", all[i].FlowID)
		require.True(t, want[i].Timestamp.Equal(all[i].Timestamp), "timestamp %v != %v", want[i].Timestamp, all[i].Timestamp)
		require.Equal(t, time.UTC, all[i].Timestamp.Location())
	}

	messages := func(es []flow.LogEntry) []string {
		out := make([]string, len(es))
		for i, e := range es {
			out[i] = e.Message
		}
		return out
	}
	tests := []struct {
		name string
		q    store.LogQuery
		want []string
	}{
		{"task run", store.LogQuery{ExecutionID: "e1", TaskRunID: "tr2"}, []string{"three", "four"}},
		{"task", store.LogQuery{ExecutionID: "e1", TaskID: "a"}, []string{"one", "two"}},
		{"min level WARN", store.LogQuery{ExecutionID: "e1", MinLevel: "WARN"}, []string{"three", "four"}},
		{"min level DEBUG", store.LogQuery{ExecutionID: "e1", MinLevel: "DEBUG"}, []string{"one", "two", "three", "four"}},
		{"min level TRACE", store.LogQuery{ExecutionID: "e1", MinLevel: "TRACE"}, []string{"one", "two", "three", "four", "five"}},
		{"after seq resumes a follow", store.LogQuery{ExecutionID: "e1", AfterSeq: first[2].Seq}, []string{"four", "five"}},
		{"limit", store.LogQuery{ExecutionID: "e1", Limit: 2}, []string{"one", "two"}},
		{"after seq and limit", store.LogQuery{ExecutionID: "e1", AfterSeq: first[0].Seq, Limit: 1}, []string{"two"}},
		{"other execution", store.LogQuery{ExecutionID: "e2"}, []string{"elsewhere"}},
		{"unknown execution", store.LogQuery{ExecutionID: "nope"}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ls.List(ctx, tc.q)
			require.NoError(t, err)
			require.Equal(t, tc.want, messages(got))
		})
	}

	require.NoError(t, ls.DeleteByExecution(ctx, "e1"))
	got, err := ls.List(ctx, store.LogQuery{ExecutionID: "e1"})
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = ls.List(ctx, store.LogQuery{ExecutionID: "e2"})
	require.NoError(t, err)
	require.Len(t, got, 1)
}

func testLogPurge(t *testing.T, s store.Store) {
	ctx, ls, clock := t.Context(), s.Logs(), Clock(t)
	t0 := clock.Now()
	at := func(d int) time.Time { return t0.Add(time.Duration(d) * time.Second) }
	all := []flow.LogEntry{
		{ExecutionID: "e1", Namespace: "acme", FlowID: "f", Level: "INFO", Message: "1", Timestamp: at(1)},
		{ExecutionID: "e1", Namespace: "acme", FlowID: "f", Level: "ERROR", Message: "2", Timestamp: at(2)},
		{ExecutionID: "e2", Namespace: "acme.team", FlowID: "f", Level: "DEBUG", Message: "3", Timestamp: at(3)},
		{ExecutionID: "e3", Namespace: "acme.team", FlowID: "g", Level: "WARN", Message: "4", Timestamp: at(4)},
		{ExecutionID: "e4", Namespace: "acmeco", FlowID: "f", Level: "INFO", Message: "5", Timestamp: at(5)},
		{Namespace: "acme", FlowID: "f", TriggerID: "t", Level: "INFO", Message: "6", Timestamp: at(6)},
	}
	tests := []struct {
		name string
		p    store.LogPurgeParams
		want []string // messages removed
	}{
		{"flow is exact namespace", store.LogPurgeParams{Namespace: "acme", FlowID: "f", To: ptr(at(100))}, []string{"1", "2", "6"}},
		{"namespace takes children, not look-alikes", store.LogPurgeParams{Namespace: "acme", To: ptr(at(100))}, []string{"1", "2", "3", "4", "6"}},
		{"levels", store.LogPurgeParams{Levels: []string{"DEBUG", "ERROR"}, To: ptr(at(100))}, []string{"2", "3"}},
		{"dates included at both ends", store.LogPurgeParams{From: ptr(at(2)), To: ptr(at(4))}, []string{"2", "3", "4"}},
		{"one execution", store.LogPurgeParams{ExecutionID: "e1"}, []string{"1", "2"}},
	}
	for _, tc := range tests {
		// each case starts from the same entries: a purge without filters
		// empties the table first
		_, err := ls.Purge(ctx, store.LogPurgeParams{})
		require.NoError(t, err)
		entries := slices.Clone(all)
		require.NoError(t, ls.Append(ctx, entries))
		n, err := ls.Purge(ctx, tc.p)
		require.NoError(t, err, tc.name)
		require.Equal(t, len(tc.want), n, tc.name)
		left := map[string]bool{}
		for _, ex := range []string{"", "e1", "e2", "e3", "e4"} {
			got, err := ls.List(ctx, store.LogQuery{ExecutionID: ex})
			require.NoError(t, err)
			for _, g := range got {
				left[g.Message] = true
			}
		}
		for _, e := range all {
			require.Equal(t, !slices.Contains(tc.want, e.Message), left[e.Message], "%s: entry %s", tc.name, e.Message)
		}
	}
}
