package secrets_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/ospreyhq/osprey/secrets"
)

// BenchmarkCachedResolution is secret('K') from a deep namespace once warm.
func BenchmarkCachedResolution(b *testing.B) {
	be := newMemory("acme", "DB_PASSWORD", "v")
	m := secrets.New(secrets.Options{Backend: be, CacheSize: 1000})
	ctx := b.Context()
	if _, err := m.Get(ctx, "acme.team.etl", "DB_PASSWORD"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Get(ctx, "acme.team.etl", "DB_PASSWORD"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkColdResolution resolves a different key each time from a
// namespace three levels below the secret, reporting backend Gets per
// resolution (the index keeps it at one).
func BenchmarkColdResolution(b *testing.B) {
	be := newMemory()
	for i := range b.N {
		be.vals[[2]string{"acme", fmt.Sprint("K", i)}] = "v"
	}
	m := secrets.New(secrets.Options{Backend: be, CacheSize: 1000, RatePerSecond: 1e9, Burst: 1e6})
	ctx := b.Context()
	b.ResetTimer()
	for i := range b.N {
		if _, err := m.Get(ctx, "acme.team.etl", fmt.Sprint("K", i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(be.gets.Load())/float64(b.N), "gets/op")
	b.ReportMetric(float64(be.lists.Load()), "lists")
}

// BenchmarkConcurrentColdKey is 1,000 concurrent resolutions of one cold
// key: they coalesce into one backend Get.
func BenchmarkConcurrentColdKey(b *testing.B) {
	var gets int64
	for range b.N {
		be := newMemory("acme", "K", "v")
		m := secrets.New(secrets.Options{Backend: be, CacheSize: 10})
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 1000 {
			wg.Go(func() {
				<-start
				if _, err := m.Get(b.Context(), "acme.team", "K"); err != nil {
					b.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		gets += be.gets.Load()
	}
	b.ReportMetric(float64(gets)/float64(b.N), "gets/1000-resolutions")
}
