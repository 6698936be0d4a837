package mask

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchSecrets is what a busy task resolves: a few passwords, a JSON
// credential and a PEM key.
func benchSecrets(m *Masker) {
	for i := range 5 {
		m.Add(fmt.Sprintf("p4ssw0rd-number-%d-xyz", i))
	}
	m.Add(`{"db":{"user":"app","password":"j50n-s3cret-pw"},"pin":918273}`)
	var pem strings.Builder
	pem.WriteString("-----BEGIN PRIVATE KEY-----\n")
	for i := range 25 {
		fmt.Fprintf(&pem, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC%013d\n", i*7919)
	}
	pem.WriteString("-----END PRIVATE KEY-----\n")
	m.Add(pem.String())
}

// BenchmarkMask measures masking throughput on ordinary log text that
// holds no secret (the common case) and on text that holds a few.
func BenchmarkMask(b *testing.B) {
	var m Masker
	benchSecrets(&m)
	clean := strings.Repeat("2026-12-07T10:00:00Z INFO task t1 processed row 12345 of 67890, status=ok\n", 200)
	dirty := clean + "leaked p4ssw0rd-number-3-xyz and j50n-s3cret-pw\n" + clean
	for _, c := range []struct {
		name string
		text string
	}{{"clean", clean}, {"dirty", dirty}} {
		b.Run(c.name, func(b *testing.B) {
			m.Mask("warm up")
			b.SetBytes(int64(len(c.text)))
			for b.Loop() {
				m.Mask(c.text)
			}
		})
	}
}

// BenchmarkAdd measures learning the secrets above, matcher included.
func BenchmarkAdd(b *testing.B) {
	for b.Loop() {
		var m Masker
		benchSecrets(&m)
		m.Mask("x")
	}
}

// BenchmarkTaskRunLearns is what each task run pays to mask the secrets
// above: a new Masker learns them and builds its matcher, alone or with
// the worker's Cache (which learnt them on an earlier run).
func BenchmarkTaskRunLearns(b *testing.B) {
	for _, c := range []struct {
		name  string
		cache *Cache
	}{{"no cache", nil}, {"cache", NewCache(256, time.Hour)}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				m := Masker{Cache: c.cache}
				benchSecrets(&m)
				m.Mask("x")
			}
		})
	}
}
