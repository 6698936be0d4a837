package image_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/deploy/image"
)

// testCA stands for the build machine's CA bundle; the image must carry it byte for byte.
var testCA = []byte("-----BEGIN CERTIFICATE-----\nTUlJQnRlc3RjZXJ0aWZpY2F0ZQ==\n-----END CERTIFICATE-----\n")

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// fakeBinary compiles testdata/fakeosprey once, for the platform the tests run on so that it can be executed.
func fakeBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "osprey-image-test-*")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "osprey")
		binErr = image.Compile(t.Context(), ".", "./testdata/fakeosprey", binPath, hostPlatform())
	})
	require.NoError(t, binErr)
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func hostPlatform() v1.Platform { return v1.Platform{OS: "linux", Architecture: runtime.GOARCH} }

func build(t *testing.T, created time.Time) v1.Image {
	t.Helper()
	img, err := image.Build(image.Options{
		Binary:         fakeBinary(t),
		Platform:       hostPlatform(),
		CACertificates: testCA,
		Created:        created,
		Labels:         map[string]string{"org.opencontainers.image.source": "https://github.com/ospreyhq/osprey"},
	})
	require.NoError(t, err)
	return img
}

func TestBuildConfig(t *testing.T) {
	t.Parallel()
	img := build(t, time.Time{})
	cfg, err := img.ConfigFile()
	require.NoError(t, err)
	require.Equal(t, []string{"/osprey"}, cfg.Config.Entrypoint)
	require.Empty(t, cfg.Config.Cmd)
	require.Equal(t, "65532:65532", cfg.Config.User, "the image runs as non-root, as the chart expects")
	require.Contains(t, cfg.Config.Env, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt")
	require.Contains(t, cfg.Config.ExposedPorts, "8080/tcp")
	require.Contains(t, cfg.Config.ExposedPorts, "8081/tcp")
	require.Equal(t, "linux", cfg.OS)
	require.Equal(t, runtime.GOARCH, cfg.Architecture)
	require.Equal(t, time.Unix(0, 0).UTC(), cfg.Created.UTC())
	require.Equal(t, "https://github.com/ospreyhq/osprey", cfg.Config.Labels["org.opencontainers.image.source"])
	mt, err := img.MediaType()
	require.NoError(t, err)
	require.Equal(t, "application/vnd.oci.image.manifest.v1+json", string(mt))
	layers, err := img.Layers()
	require.NoError(t, err)
	require.Len(t, layers, 2, "base layer, then the binary")
}

// entry is one file of the image's flattened filesystem.
type entry struct {
	hdr  *tar.Header
	data []byte
}

func filesystem(t *testing.T, img v1.Image) map[string]entry {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	out := map[string]entry{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		out[strings.TrimSuffix(hdr.Name, "/")] = entry{hdr, data}
	}
}

func TestLayerContents(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	fsys := filesystem(t, build(t, created))

	bin, err := os.ReadFile(fakeBinary(t))
	require.NoError(t, err)
	tests := []struct {
		path string
		mode int64
		uid  int
		data []byte
	}{
		{path: "osprey", mode: 0o755, data: bin},
		{path: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: testCA},
		{path: "tmp", mode: 0o1777},
		{path: "home/nonroot", mode: 0o700, uid: 65532},
	}
	for _, tt := range tests {
		e, ok := fsys[tt.path]
		require.True(t, ok, tt.path)
		require.Equal(t, tt.mode, e.hdr.Mode, tt.path)
		require.Equal(t, tt.uid, e.hdr.Uid, tt.path)
		if tt.data != nil {
			require.Equal(t, tt.data, e.data, tt.path)
		}
	}
	require.Contains(t, string(fsys["etc/passwd"].data), "nonroot:x:65532:65532:")
	require.Contains(t, string(fsys["etc/group"].data), "nonroot:x:65532:")
	for name, e := range fsys {
		require.True(t, e.hdr.ModTime.Equal(created), "%s has time %s", name, e.hdr.ModTime)
	}
}

// TestImageRuns unpacks the image's entrypoint and runs it: what a container runtime does, minus the runtime.
func TestImageRuns(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the image's binary is a linux executable")
	}
	img := build(t, time.Time{})
	cfg, err := img.ConfigFile()
	require.NoError(t, err)
	fsys := filesystem(t, img)
	entry := strings.TrimPrefix(cfg.Config.Entrypoint[0], "/")
	bin := filepath.Join(t.TempDir(), filepath.Base(entry))
	require.NoError(t, os.WriteFile(bin, fsys[entry].data, os.FileMode(fsys[entry].hdr.Mode)))

	// A parallel test forking between our write and exec can briefly hold the file open (ETXTBSY); retry.
	var out []byte
	for range 50 {
		out, err = exec.CommandContext(t.Context(), bin, "version").CombinedOutput()
		if !errors.Is(err, syscall.ETXTBSY) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, err, "%s", out)
	require.Equal(t, "osprey fake-test-binary args=version\n", string(out))
}

func TestReproducible(t *testing.T) {
	t.Parallel()
	first, second := build(t, time.Time{}), build(t, time.Time{})
	d1, err := first.Digest()
	require.NoError(t, err)
	d2, err := second.Digest()
	require.NoError(t, err)
	require.Equal(t, d1, d2, "same inputs, same digest")

	other, err := build(t, time.Unix(1700000000, 0)).Digest()
	require.NoError(t, err)
	require.NotEqual(t, d1, other, "the creation time is an input, not the clock")

	var a, b bytes.Buffer
	require.NoError(t, image.WriteOCIArchive(&a, first, "ghcr.io/ospreyhq/osprey:test"))
	require.NoError(t, image.WriteOCIArchive(&b, second, "ghcr.io/ospreyhq/osprey:test"))
	require.Equal(t, sha256.Sum256(a.Bytes()), sha256.Sum256(b.Bytes()), "same inputs, same archive bytes")

	// Compiling again gives the same binary, so the whole path from source is reproducible.
	again := filepath.Join(t.TempDir(), "osprey")
	require.NoError(t, image.Compile(t.Context(), ".", "./testdata/fakeosprey", again, hostPlatform()))
	want, err := os.ReadFile(fakeBinary(t))
	require.NoError(t, err)
	got, err := os.ReadFile(again)
	require.NoError(t, err)
	require.Equal(t, sha256.Sum256(want), sha256.Sum256(got))
}

// TestArchivesLoad reads both output formats back with the registry library, as docker/podman/crane would.
func TestArchivesLoad(t *testing.T) {
	t.Parallel()
	img := build(t, time.Time{})
	want, err := img.Digest()
	require.NoError(t, err)

	var archive bytes.Buffer
	require.NoError(t, image.WriteOCIArchive(&archive, img, "ghcr.io/ospreyhq/osprey:test"))
	dir := t.TempDir()
	untar(t, &archive, dir)
	idx, err := layout.ImageIndexFromPath(dir)
	require.NoError(t, err)
	manifest, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Len(t, manifest.Manifests, 1)
	require.Equal(t, want, manifest.Manifests[0].Digest)
	require.Equal(t, "ghcr.io/ospreyhq/osprey:test", manifest.Manifests[0].Annotations["org.opencontainers.image.ref.name"])
	loaded, err := idx.Image(want)
	require.NoError(t, err)
	loadedCfg, err := loaded.ConfigFile()
	require.NoError(t, err)
	require.Equal(t, []string{"/osprey"}, loadedCfg.Config.Entrypoint)

	path := filepath.Join(t.TempDir(), "docker.tar")
	require.NoError(t, image.WriteDockerTarball(path, img, "ghcr.io/ospreyhq/osprey:test"))
	fromDocker, err := tarball.ImageFromPath(path, nil)
	require.NoError(t, err)
	cfgName, err := fromDocker.ConfigName()
	require.NoError(t, err)
	wantCfg, err := img.ConfigName()
	require.NoError(t, err)
	require.Equal(t, wantCfg, cfgName)
}

func untar(t *testing.T, r io.Reader, dir string) {
	t.Helper()
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		require.NoError(t, err)
		require.True(t, filepath.IsLocal(hdr.Name), hdr.Name)
		path := filepath.Join(dir, hdr.Name)
		if hdr.Typeflag == tar.TypeDir {
			require.NoError(t, os.MkdirAll(path, 0o755))
			continue
		}
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, data, 0o644))
	}
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	_, err := image.Build(image.Options{})
	require.ErrorContains(t, err, "no binary given")
	_, err = image.Build(image.Options{Binary: filepath.Join(t.TempDir(), "missing")})
	require.ErrorContains(t, err, "read binary")
	err = image.Compile(t.Context(), ".", "./testdata/does-not-exist", filepath.Join(t.TempDir(), "x"), hostPlatform())
	require.ErrorContains(t, err, "compile ./testdata/does-not-exist")
}

// TestDockerfileAgrees keeps the Dockerfile, which cannot be built here, in step with the daemon-less image that
// is: same entrypoint, same non-root user, same static build.
func TestDockerfileAgrees(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	require.NoError(t, err)
	dockerfile := string(data)
	for _, want := range []string{
		`ENTRYPOINT ["` + image.BinaryPath + `"]`,
		"USER " + image.User,
		"COPY --from=build /out/osprey " + image.BinaryPath,
		"ENV SSL_CERT_FILE=" + image.CertFile,
		"WORKDIR " + image.HomeDir,
		"CGO_ENABLED=0",
		`-trimpath -ldflags="-s -w -buildid="`,
		"FROM gcr.io/distroless/static-debian12:nonroot",
	} {
		require.Contains(t, dockerfile, want)
	}
}
