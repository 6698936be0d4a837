package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Ledger records every time a task really ran, apart from the store: the
// tasks of the test flows call it over loopback HTTP (a task process may
// write nowhere but its working directory, but it may reach the network),
// so a run the store forgot or never recorded is still counted. Lines are
// also appended to a file for whoever reads the run afterwards.
type Ledger struct {
	srv  *http.Server
	url  string
	file *os.File

	mu    sync.Mutex
	marks []Mark
	runs  map[string]int
}

// Mark is one call to the ledger.
type Mark struct {
	Event     string
	Flow      string
	Execution string
	TaskRun   string
	// Attempts is the task run's attempt count when the job was sent.
	Attempts int
	// PID is the task's shell; PPID its parent (the worker, or the
	// worker's task-process supervisor).
	PID, PPID int
	At        time.Time
}

// NewLedger starts a ledger on 127.0.0.1 writing to path.
func NewLedger(path string) (*Ledger, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("ledger listen: %w", err)
	}
	l := &Ledger{file: f, url: "http://" + ln.Addr().String(), runs: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /mark", l.mark)
	mux.HandleFunc("GET /runs/{taskRun}", func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		n := l.runs[r.PathValue("taskRun")]
		l.mu.Unlock()
		fmt.Fprint(w, n)
	})
	l.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = l.srv.Serve(ln) }()
	return l, nil
}

func (l *Ledger) mark(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4096))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fs := strings.Fields(string(body))
	if len(fs) != 7 {
		http.Error(w, fmt.Sprintf("want 7 fields, got %q", body), http.StatusBadRequest)
		return
	}
	m := Mark{Event: fs[0], Flow: fs[1], Execution: fs[2], TaskRun: fs[3], At: time.Now()}
	m.Attempts, _ = strconv.Atoi(fs[4])
	m.PID, _ = strconv.Atoi(fs[5])
	m.PPID, _ = strconv.Atoi(fs[6])
	l.mu.Lock()
	defer l.mu.Unlock()
	l.marks = append(l.marks, m)
	if m.Event == "start" {
		l.runs[m.TaskRun]++
	}
	fmt.Fprintf(l.file, "%s %d\n", strings.Join(fs, " "), m.At.UnixNano())
	w.WriteHeader(http.StatusNoContent)
}

// URL is the ledger's base URL.
func (l *Ledger) URL() string { return l.url }

// Marks returns the marks so far, oldest first.
func (l *Ledger) Marks() []Mark {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Mark(nil), l.marks...)
}

// Close stops the ledger.
func (l *Ledger) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(l.srv.Shutdown(ctx), l.file.Close())
}

// NeedCurl says why the ledger's commands cannot run here, if they cannot:
// the tasks call the ledger with curl.
func NeedCurl() error {
	if _, err := exec.LookPath("curl"); err != nil {
		return errors.New("curl is not installed: the test tasks report to the ledger with it (apt-get install curl)")
	}
	return nil
}

// MarkCommand is a shell command that tells the ledger that this task run
// runs now: its flow, execution, task run and attempt count, its shell's
// process id and its parent's. The task fails if the ledger cannot be told.
func (l *Ledger) MarkCommand(event string) string {
	return fmt.Sprintf(`curl -fsS --max-time 10 --retry 3 --data-binary "%s {{ flow.id }} {{ execution.id }} {{ taskrun.id }} {{ taskrun.attemptsCount }} $$ $PPID" %s`,
		event, shellQuote(l.url+"/mark"))
}

// RunsCommand is a shell command that prints how many times this task run
// started, this time included.
func (l *Ledger) RunsCommand() string {
	return fmt.Sprintf(`curl -fsS --max-time 10 --retry 3 %s`, shellQuote(l.url+"/runs/{{ taskrun.id }}"))
}
