package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/worker"
)

// LogFetch writes an execution's logs to a file (core.log.Fetch): one JSON
// object a line, which is also valid Ion text as Kestra writes it.
// outputs.uri and outputs.size (the number of lines).
type LogFetch struct {
	ExecutionID string   `json:"executionId"`
	TasksID     []string `json:"tasksId"`
	Level       string   `json:"level"`
}

// logPage bounds what one read of the log store holds in memory.
const logPage = 1000

// Run implements worker.Runnable.
func (x *LogFetch) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	if rc.Logs == nil {
		return nil, errors.New("no log store is available to this worker")
	}
	f, err := filesOf(rc)
	if err != nil {
		return nil, err
	}
	id := rc.TaskRun.ExecutionID
	if x.ExecutionID != "" {
		if id, err = rc.Render(ctx, x.ExecutionID); err != nil {
			return nil, fmt.Errorf("executionId: %w", err)
		}
	}
	level := "INFO"
	if x.Level != "" {
		if level, err = rc.Render(ctx, x.Level); err != nil {
			return nil, fmt.Errorf("level: %w", err)
		}
		level = strings.ToUpper(level)
	}
	tasks := map[string]bool{}
	for _, t := range x.TasksID {
		r, err := rc.Render(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("tasksId: %w", err)
		}
		tasks[r] = true
	}
	ns := rc.TaskRun.Namespace
	pr, pw := io.Pipe()
	count := 0
	go func() {
		var after int64
		enc := json.NewEncoder(pw)
		for {
			page, err := rc.Logs.List(ctx, store.LogQuery{ExecutionID: id, MinLevel: level, AfterSeq: after, Limit: logPage})
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			for _, e := range page {
				after = e.Seq
				if e.Namespace != ns {
					// Another namespace's execution: its logs are not this flow's to read.
					pw.CloseWithError(fmt.Errorf("executionId %s: a task fetches only the logs of its own namespace's executions", id))
					return
				}
				if len(tasks) > 0 && !tasks[e.TaskID] {
					continue
				}
				if err := enc.Encode(e); err != nil {
					pw.CloseWithError(err)
					return
				}
				count++
			}
			if len(page) < logPage {
				_ = pw.Close()
				return
			}
		}
	}()
	uri, _, err := f.put(ctx, fileName(".ion"), pr)
	_ = pr.CloseWithError(errors.New("fetch stopped"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"uri": uri, "size": count}, nil
}
