package cli

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/server"
)

// TestManagementHost: the management port stays on loopback unless a host is configured, by flag or, as in
// Micronaut, through the API's own micronaut.server.host.
func TestManagementHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		flag string
		env  []string
		want string
	}{
		{name: "nothing configured", want: "127.0.0.1:8081"},
		{name: "the flag", flag: "0.0.0.0", want: "0.0.0.0:8081"},
		{name: "the API's host", env: []string{"MICRONAUT_SERVER_HOST=10.1.2.3"}, want: "10.1.2.3:8081"},
		{name: "the flag beats the API's host", flag: "127.0.0.1", env: []string{"MICRONAUT_SERVER_HOST=0.0.0.0"}, want: "127.0.0.1:8081"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, _, err := config.Load(t.Context(), config.Sources{Env: tt.env})
			require.NoError(t, err)
			got := server.ManagementAddr(managementHost(serverFlags{managementHost: tt.flag}, cfg), cfg.Server.ManagementPort)
			require.Equal(t, tt.want, got)
		})
	}
}
