package worker

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/storage"
)

// A task with logToFile (Kestra's common property) keeps its log lines out
// of the execution's log: they go, masked as every line is, to a file that
// is stored in internal storage when the attempt ends and named by the
// attempt's logFile. Lines stream to a temporary file on the worker's disk,
// so a talkative task costs no memory.

// maxLogFileBytes bounds a log file: a task printing without end must not
// fill the worker's disk.
const maxLogFileBytes = 1 << 30

// logFile is the temporary file of one attempt's log lines.
type logFile struct {
	f         *os.File
	w         *bufio.Writer
	logger    string
	bytes     int64
	truncated bool
	err       error // the first write error: the file is then abandoned
}

// newLogFile creates the temporary file in dir.
func newLogFile(dir string, tr *flow.TaskRun) (*logFile, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create log file directory: %w", err)
	}
	f, err := os.CreateTemp(dir, "log-*.txt")
	if err != nil {
		return nil, fmt.Errorf("create log file: %w", err)
	}
	return &logFile{f: f, w: bufio.NewWriter(f), logger: "flow." + tr.FlowID + "." + tr.ExecutionID + "." + tr.ID}, nil
}

// write appends one line in the layout of Kestra's log files:
// date, level, thread, logger, message.
func (l *logFile) write(e flow.LogEntry) {
	if l.err != nil || l.truncated {
		return
	}
	line := fmt.Sprintf("%s %-5s %s %s %s\n", e.Timestamp.UTC().Format("2006-01-02 15:04:05,000"), e.Level, e.Thread, l.logger,
		strings.ReplaceAll(e.Message, "\n", "\n\t"))
	if l.bytes+int64(len(line)) > maxLogFileBytes {
		l.truncated = true
		line = fmt.Sprintf("%s WARN  %s %s log truncated: this task run printed more than 1 GiB\n",
			e.Timestamp.UTC().Format("2006-01-02 15:04:05,000"), e.Thread, l.logger)
	}
	n, err := l.w.WriteString(line)
	l.bytes += int64(n)
	l.err = err
}

// store uploads the file under the task run's directory and returns its
// kestra:/// URI; the temporary file is removed in every case.
func (l *logFile) store(ctx context.Context, st storage.Storage, tr *flow.TaskRun) (string, error) {
	defer os.Remove(l.f.Name())
	defer l.f.Close()
	if l.err == nil {
		l.err = l.w.Flush()
	}
	if l.err != nil {
		return "", fmt.Errorf("write log file: %w", l.err)
	}
	if _, err := l.f.Seek(0, 0); err != nil {
		return "", fmt.Errorf("read log file: %w", err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	p := path.Join(storage.TaskRunPath(tr.Namespace, tr.FlowID, tr.ExecutionID, tr.TaskID, tr.ID), "log-"+hex.EncodeToString(b)+".txt")
	if _, err := st.Put(ctx, p, l.f); err != nil {
		return "", fmt.Errorf("store log file: %w", err)
	}
	return storage.URI(p), nil
}

// logToFile sends buf's lines to a log file from now on; the returned
// function, deferred by execute, stores the file and names it in the
// result. A log file that cannot be made or stored leaves the lines (or a
// WARN line saying why) in the execution's log: nothing is lost silently.
func (w *Worker) logToFile(ctx context.Context, buf *logBuffer, tr *flow.TaskRun, res *engine.Result, logs *[]flow.LogEntry) func() {
	lf, err := newLogFile(w.opts.TmpDir, tr)
	warn := func(err error) {
		*logs = append(*logs, flow.LogEntry{
			Namespace: tr.Namespace, FlowID: tr.FlowID, TaskID: tr.TaskID, ExecutionID: tr.ExecutionID, TaskRunID: tr.ID,
			Timestamp: time.Now().UTC(), Level: "WARN", Thread: w.opts.ID, Message: "logToFile: " + err.Error(),
		})
	}
	if err != nil {
		w.log.WarnContext(ctx, "log file", "task_run_id", tr.ID, "err", err)
		return func() { warn(err) }
	}
	buf.mu.Lock()
	buf.file = lf
	buf.mu.Unlock()
	return func() {
		buf.mu.Lock()
		buf.file = nil
		buf.mu.Unlock()
		uri, err := lf.store(context.WithoutCancel(ctx), w.opts.Storage, tr)
		if err != nil {
			w.log.WarnContext(ctx, "log file", "task_run_id", tr.ID, "err", err)
			warn(err)
			return
		}
		res.LogFile = uri
	}
}
