package azurekv_test

import (
	"sync"
	"testing"

	"github.com/ospreyhq/osprey/devkit/azurefake"
	"github.com/ospreyhq/osprey/secrets"
)

// benchVault is a vault holding company/DB_PASSWORD, with throttling
// raised so the benchmark measures Osprey rather than the limit.
func benchVault(b *testing.B) (*fixture, secrets.Backend) {
	f := newFixture(b, fixtureOptions{role: azurefake.RoleSecretsOfficer,
		limits: azurefake.ThrottleLimits{Operations: 1 << 30, Creates: 1 << 30}})
	be := f.backend(b, nil)
	if err := be.Put(b.Context(), secrets.PutParams{Namespace: "company", Key: "DB_PASSWORD", Value: "v"}); err != nil {
		b.Fatal(err)
	}
	return f, be
}

func vaultCalls(f *fixture) int { return len(f.vault.Requests()) }

// BenchmarkKeyVaultWarm is secret('DB_PASSWORD') from company.team.etl once
// warm: served from memory, no vault request.
func BenchmarkKeyVaultWarm(b *testing.B) {
	f, be := benchVault(b)
	m := secrets.New(secrets.Options{Backend: be, CacheSize: 1000})
	if _, err := m.Get(b.Context(), "company.team.etl", "DB_PASSWORD"); err != nil {
		b.Fatal(err)
	}
	before := vaultCalls(f)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Get(b.Context(), "company.team.etl", "DB_PASSWORD"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(vaultCalls(f)-before)/float64(b.N), "vault-requests/op")
}

// BenchmarkKeyVaultCold resolves with a fresh cache and index each time (a
// new replica's first secret): one listing and one GET, whatever the depth.
func BenchmarkKeyVaultCold(b *testing.B) {
	f, be := benchVault(b)
	before := vaultCalls(f)
	for b.Loop() {
		m := secrets.New(secrets.Options{Backend: be, CacheSize: 1000})
		if _, err := m.Get(b.Context(), "company.team.etl", "DB_PASSWORD"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(vaultCalls(f)-before)/float64(b.N), "vault-requests/op")
}

// BenchmarkKeyVaultUncached has the value cache disabled but the index
// warm: three parent namespaces, still one GET per resolution.
func BenchmarkKeyVaultUncached(b *testing.B) {
	f, be := benchVault(b)
	m := secrets.New(secrets.Options{Backend: be, RatePerSecond: 1e6, Burst: 1e6})
	if _, err := m.Get(b.Context(), "company.team.etl", "DB_PASSWORD"); err != nil {
		b.Fatal(err)
	}
	before := f.vault.Count("GetSecret")
	for b.Loop() {
		if _, err := m.Get(b.Context(), "company.team.etl", "DB_PASSWORD"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(f.vault.Count("GetSecret")-before)/float64(b.N), "vault-gets/op")
}

// BenchmarkKeyVault1000Concurrent is 1,000 concurrent first resolutions of
// one key on a cold replica, reporting the GETs that reach the vault.
func BenchmarkKeyVault1000Concurrent(b *testing.B) {
	f, be := benchVault(b)
	before := f.vault.Count("GetSecret")
	for b.Loop() {
		m := secrets.New(secrets.Options{Backend: be, CacheSize: 1000})
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 1000 {
			wg.Go(func() {
				<-start
				if _, err := m.Get(b.Context(), "company.team", "DB_PASSWORD"); err != nil {
					b.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
	}
	b.ReportMetric(float64(f.vault.Count("GetSecret")-before)/float64(b.N), "vault-gets/1000-resolutions")
}
