package cli

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/config"
)

// The worker keeps what its maskers learn only while the secret manager
// keeps the values: kestra.secret.cache.enabled false keeps nothing.
func TestMaskCacheFollowsTheSecretCache(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		env  []string
		on   bool
	}{
		{name: "default", on: true},
		{name: "secret cache off", env: []string{"KESTRA_SECRET_CACHE_ENABLED=false"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, _, err := config.Load(t.Context(), config.Sources{Env: tt.env})
			require.NoError(t, err)
			require.Equal(t, tt.on, maskCache(cfg) != nil)
		})
	}
}
