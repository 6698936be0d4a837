package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "osprey")
	require.NoError(t, os.WriteFile(bin, []byte("#!binary"), 0o755))
	certs := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(certs, []byte("-----BEGIN CERTIFICATE-----\n"), 0o644))
	noEnv := func(string) string { return "" }

	tests := []struct {
		name     string
		args     []string
		getenv   func(string) string
		code     int
		stdout   string
		stderr   string
		archived []string // files the output archive must hold
	}{
		{name: "oci archive", args: []string{"-binary", bin, "-ca-certs", certs, "-tag", "example.com/osprey:1.2.3"},
			getenv: noEnv, stdout: "(oci, example.com/osprey:1.2.3) sha256:", archived: []string{"oci-layout", "index.json"}},
		{name: "docker tarball", args: []string{"-binary", bin, "-ca-certs", certs, "-format", "docker"},
			getenv: noEnv, stdout: "(docker, ghcr.io/ospreyhq/osprey:dev) sha256:", archived: []string{"manifest.json"}},
		{name: "missing CA bundle says what to do", args: []string{"-binary", bin, "-ca-certs", filepath.Join(dir, "none.pem")},
			getenv: noEnv, code: 1, stderr: "pass -ca-certs FILE"},
		{name: "bad format", args: []string{"-format", "zip"}, getenv: noEnv, code: 2, stderr: "want oci or docker"},
		{name: "bad epoch", args: []string{"-binary", bin}, getenv: func(string) string { return "yesterday" },
			code: 2, stderr: "want Unix seconds"},
		{name: "stray argument", args: []string{"build"}, getenv: noEnv, code: 2, stderr: `unexpected argument "build"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "image.tar")
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), append(tt.args, "-output", out), &stdout, &stderr, tt.getenv)
			require.Equal(t, tt.code, code, "stderr: %s", stderr.String())
			require.Contains(t, stdout.String(), tt.stdout)
			require.Contains(t, stderr.String(), tt.stderr)
			if tt.archived == nil {
				_, err := os.Stat(out)
				require.ErrorIs(t, err, os.ErrNotExist, "a failed build leaves no file")
				return
			}
			info, err := os.Stat(out)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o644), info.Mode().Perm(), "an archive is meant to be shared")
			names := archiveNames(t, out)
			for _, n := range tt.archived {
				require.Contains(t, names, n)
			}
		})
	}
}

// TestSourceDateEpoch: the digest follows SOURCE_DATE_EPOCH and nothing else.
func TestSourceDateEpoch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "osprey")
	require.NoError(t, os.WriteFile(bin, []byte("#!binary"), 0o755))
	certs := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(certs, []byte("pem"), 0o644))
	digest := func(epoch string) string {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), []string{"-binary", bin, "-ca-certs", certs, "-output", filepath.Join(t.TempDir(), "i.tar")},
			&stdout, &stderr, func(k string) string {
				if k == "SOURCE_DATE_EPOCH" {
					return epoch
				}
				return ""
			})
		require.Equal(t, 0, code, stderr.String())
		fields := strings.Fields(stdout.String())
		return fields[len(fields)-1]
	}
	require.Equal(t, digest("1700000000"), digest("1700000000"))
	require.NotEqual(t, digest("1700000000"), digest("0"))
}

func archiveNames(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	tr := tar.NewReader(f)
	var names []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		require.NoError(t, err)
		names = append(names, hdr.Name)
	}
}
