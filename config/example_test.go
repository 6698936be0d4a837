package config_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/ospreyhq/osprey/config"
)

func ExampleConfig_WriteProperties() {
	cfg, _, err := config.Load(context.Background(), config.Sources{
		Env: []string{
			"KESTRA_CONFIGURATION=kestra:\n  server:\n    basicAuth:\n      username: admin\n      password: hunter2hunter2\n",
			"MICRONAUT_SERVER_PORT=9090",
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range cfg.Properties() {
		if p.Source.Layer != config.LayerDefault {
			fmt.Printf("%s=%s  # %s\n", p.Key, p.Value, p.Source)
		}
	}
	// Output:
	// kestra.server.basic-auth.password=******  # env KESTRA_CONFIGURATION:5
	// kestra.server.basic-auth.username=admin  # env KESTRA_CONFIGURATION:4
	// micronaut.server.port=9090  # env MICRONAUT_SERVER_PORT
}

func BenchmarkLoad(b *testing.B) {
	doc, err := os.ReadFile("testdata/azure-full.yml")
	if err != nil {
		b.Fatal(err)
	}
	src := config.Sources{
		Files: []string{"testdata/kestra-postgres.yml"},
		Env:   []string{"KESTRA_CONFIGURATION=" + string(doc), "AZURE_CLIENT_SECRET=x", "MICRONAUT_SERVER_PORT=9090", "PATH=/usr/bin"},
	}
	for b.Loop() {
		if _, _, err := config.Load(context.Background(), src); err != nil {
			b.Fatal(err)
		}
	}
}
