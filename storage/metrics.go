package storage

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Instrumented wraps a Storage with Prometheus metrics: operations by kind
// and outcome, their durations, and the bytes stored and served. It is a
// prometheus.Collector; register it where /metrics is served.
type Instrumented struct {
	Storage
	ops   *prometheus.CounterVec
	dur   *prometheus.HistogramVec
	bytes *prometheus.CounterVec
}

var (
	_ Storage              = (*Instrumented)(nil)
	_ prometheus.Collector = (*Instrumented)(nil)
)

// Instrument wraps s.
func Instrument(s Storage) *Instrumented {
	return &Instrumented{
		Storage: s,
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "osprey", Subsystem: "storage", Name: "operations_total",
			Help: "Internal storage operations by operation (put, get, stat, list, delete, delete_tree) and result (ok, not_found, error)."}, []string{"operation", "result"}),
		dur: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "osprey", Subsystem: "storage", Name: "operation_duration_seconds",
			Help: "Duration of internal storage operations (for get, until the file is open).", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, []string{"operation"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "osprey", Subsystem: "storage", Name: "bytes_total",
			Help: "Bytes written to (in) and read from (out) internal storage."}, []string{"direction"}),
	}
}

// Describe implements prometheus.Collector.
func (i *Instrumented) Describe(ch chan<- *prometheus.Desc) {
	i.ops.Describe(ch)
	i.dur.Describe(ch)
	i.bytes.Describe(ch)
}

// Collect implements prometheus.Collector.
func (i *Instrumented) Collect(ch chan<- prometheus.Metric) {
	i.ops.Collect(ch)
	i.dur.Collect(ch)
	i.bytes.Collect(ch)
}

func (i *Instrumented) observe(op string, start time.Time, err error) {
	result := "ok"
	switch {
	case errors.Is(err, ErrNotFound):
		result = "not_found"
	case err != nil:
		result = "error"
	}
	i.ops.WithLabelValues(op, result).Inc()
	i.dur.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

// Put implements Storage.
func (i *Instrumented) Put(ctx context.Context, p string, r io.Reader) (int64, error) {
	start := time.Now()
	n, err := i.Storage.Put(ctx, p, r)
	i.observe("put", start, err)
	i.bytes.WithLabelValues("in").Add(float64(n))
	return n, err
}

// Get implements Storage; the bytes are counted as they are read.
func (i *Instrumented) Get(ctx context.Context, p string) (io.ReadCloser, error) {
	start := time.Now()
	rc, err := i.Storage.Get(ctx, p)
	i.observe("get", start, err)
	if err != nil {
		return nil, err
	}
	return &countedReader{ReadCloser: rc, c: i.bytes.WithLabelValues("out")}, nil
}

// Stat implements Storage.
func (i *Instrumented) Stat(ctx context.Context, p string) (Info, error) {
	start := time.Now()
	info, err := i.Storage.Stat(ctx, p)
	i.observe("stat", start, err)
	return info, err
}

// List implements Storage.
func (i *Instrumented) List(ctx context.Context, prefix string) ([]Info, error) {
	start := time.Now()
	l, err := i.Storage.List(ctx, prefix)
	i.observe("list", start, err)
	return l, err
}

// Delete implements Storage.
func (i *Instrumented) Delete(ctx context.Context, p string) (bool, error) {
	start := time.Now()
	ok, err := i.Storage.Delete(ctx, p)
	i.observe("delete", start, err)
	return ok, err
}

// DeleteTree implements Storage.
func (i *Instrumented) DeleteTree(ctx context.Context, prefix string) (int, error) {
	start := time.Now()
	n, err := i.Storage.DeleteTree(ctx, prefix)
	i.observe("delete_tree", start, err)
	return n, err
}

type countedReader struct {
	io.ReadCloser
	c prometheus.Counter
}

func (r *countedReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.c.Add(float64(n))
	return n, err
}
