package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ospreyhq/osprey/store"
)

// errClosing ends waits and streams when the server stops.
var errClosing = errors.New("server is shutting down")

// loop calls step now, then on every wake-up of topic (an execution's
// topic wakes on each saved step and appended log line, in any process)
// and every PollInterval, until step reports done, fails, or ctx ends. The
// subscription starts before the first step, so a change stored between
// that read and the wait still wakes it; the poll is only the fallback for
// a lost notification (a dropped LISTEN connection). keepAlive, when set,
// runs every KeepAlive interval.
func (s *Server) loop(ctx context.Context, topic string, step func(context.Context) (bool, error), keepAlive func() error) error {
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	wake, err := s.opts.Store.Queue().Subscribe(subCtx, topic)
	if err != nil {
		wake = nil // poll only
	}
	poll := time.NewTicker(s.opts.PollInterval)
	defer poll.Stop()
	var ka <-chan time.Time
	if keepAlive != nil {
		t := time.NewTicker(s.opts.KeepAlive)
		defer t.Stop()
		ka = t.C
	}
	for {
		done, err := step(ctx)
		if err != nil || done {
			return err
		}
		for woke := false; !woke; {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-s.closing:
				return errClosing
			case _, ok := <-wake:
				if !ok {
					wake = nil
				}
				woke = true
			case <-poll.C:
				woke = true
			case <-ka:
				if err := keepAlive(); err != nil {
					return err
				}
			}
		}
	}
}

// eventStream writes server-sent events.
type eventStream struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

// startEvents sends the SSE headers and lifts the write timeout, which a
// stream outlives by design; the client's going away ends it.
func startEvents(w http.ResponseWriter) (*eventStream, error) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil, fmt.Errorf("start event stream: %w", err)
	}
	return &eventStream{w: w, rc: rc}, nil
}

// send writes one event whose data is v as JSON (one line: encoding/json
// never emits raw newlines).
func (es *eventStream) send(id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	if _, err := fmt.Fprintf(es.w, "id: %s\ndata: %s\n\n", id, b); err != nil {
		return fmt.Errorf("write event: %w", err)
	}
	return es.rc.Flush()
}

// marker writes an event with an id and no data: it moves the stream's
// last event id (readers that watch ids see it) but is not dispatched as
// a message by SSE clients.
func (es *eventStream) marker(id string) error {
	if _, err := fmt.Fprintf(es.w, "id: %s\n\n", id); err != nil {
		return fmt.Errorf("write event: %w", err)
	}
	return es.rc.Flush()
}

// comment writes a keep-alive comment that clients ignore.
func (es *eventStream) comment() error {
	if _, err := fmt.Fprint(es.w, ": keep-alive\n\n"); err != nil {
		return fmt.Errorf("write keep-alive: %w", err)
	}
	return es.rc.Flush()
}

// followExecution streams the execution: one "progress" event per change,
// then a final event with id "end", holding the terminal execution.
func (s *Server) followExecution(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("executionId")
	if _, _, err := s.opts.Store.Executions().Get(r.Context(), id); err != nil {
		return fmt.Errorf("execution %s: %w", id, err)
	}
	es, err := startEvents(w)
	if err != nil {
		return nil //nolint:nilerr // headers are gone; the client left
	}
	var last []byte
	err = s.loop(r.Context(), store.TopicExecution(id), func(ctx context.Context) (bool, error) {
		e, _, err := s.opts.Store.Executions().Get(ctx, id)
		if err != nil {
			return false, err
		}
		b, err := json.Marshal(e)
		if err != nil {
			return false, err
		}
		changed := string(b) != string(last)
		// Over once settled: its afterExecution tasks ended too.
		terminal := e.Settled()
		// As Kestra does: an execution already over gets only "end"; one
		// followed to its end gets its final state as "progress", then "end".
		if changed && (!terminal || last != nil) {
			if err := es.send("progress", json.RawMessage(b)); err != nil {
				return false, err
			}
		}
		last = b
		if terminal {
			return true, es.send("end", json.RawMessage(b))
		}
		return false, nil
	}, es.comment)
	s.endStream(r, err)
	return nil
}

// endStream logs why a stream stopped, unless the client simply left.
func (s *Server) endStream(r *http.Request, err error) {
	if err != nil && r.Context().Err() == nil && !errors.Is(err, errClosing) {
		s.log.WarnContext(r.Context(), "event stream stopped", slog.String("route", r.Pattern), slog.Any("err", err))
	}
}
