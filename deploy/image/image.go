// Package image builds Osprey's container image without a Docker daemon.
//
// Docker cannot run on every build machine, and a release image must be rebuildable bit for bit, so the image is
// assembled here with go-containerregistry, the way ko does it: a statically linked binary layered onto a tiny
// distroless-style base (a non-root user, CA certificates, a writable /tmp), every timestamp fixed, written as
// an OCI archive or a docker-loadable tarball. The same inputs always give the same image digest.
//
// The Dockerfile at the repository root builds an equivalent image for those who have Docker.
package image

import (
	"archive/tar"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Paths and identity inside the image. The user is distroless's "nonroot", which the Helm chart's
// securityContext also names, so the chart and the image agree on who owns what.
const (
	BinaryPath = "/osprey"
	CertFile   = "/etc/ssl/certs/ca-certificates.crt"
	UID        = 65532
	User       = "65532:65532"
	HomeDir    = "/home/nonroot"
)

// Options describe one image.
type Options struct {
	// Binary is the path of a statically linked executable for Platform; it becomes BinaryPath.
	Binary string
	// Platform defaults to linux/amd64.
	Platform v1.Platform
	// CACertificates is the PEM bundle written to CertFile, so TLS to Azure works from a base without a distro.
	CACertificates []byte
	// Created stamps the config, the history and every file; the zero value means the Unix epoch.
	// Release builds pass SOURCE_DATE_EPOCH here.
	Created time.Time
	// Labels are the OCI labels of the image config (org.opencontainers.image.*).
	Labels map[string]string
}

// Build assembles the image: a base layer of system files, then the binary as its own layer so that rebuilds
// with a new binary share the base layer.
func Build(opts Options) (v1.Image, error) {
	if opts.Binary == "" {
		return nil, fmt.Errorf("build image: no binary given")
	}
	binary, err := os.ReadFile(opts.Binary)
	if err != nil {
		return nil, fmt.Errorf("build image: read binary: %w", err)
	}
	platform := opts.Platform
	platform.OS = cmp.Or(platform.OS, "linux")
	platform.Architecture = cmp.Or(platform.Architecture, "amd64")
	created := opts.Created
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	created = created.UTC().Truncate(time.Second)

	base, err := layer(baseFiles(opts.CACertificates), created)
	if err != nil {
		return nil, fmt.Errorf("build image: base layer: %w", err)
	}
	app, err := layer([]file{{name: BinaryPath[1:], mode: 0o755, data: binary}}, created)
	if err != nil {
		return nil, fmt.Errorf("build image: binary layer: %w", err)
	}

	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, History: v1.History{Created: v1.Time{Time: created}, CreatedBy: "osprey-image: non-root user, CA certificates, /tmp", Comment: "base"}},
		mutate.Addendum{Layer: app, History: v1.History{Created: v1.Time{Time: created}, CreatedBy: "osprey-image: " + BinaryPath}},
	)
	if err != nil {
		return nil, fmt.Errorf("build image: append layers: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("build image: read config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.Created = v1.Time{Time: created}
	cfg.OS = platform.OS
	cfg.Architecture = platform.Architecture
	cfg.Variant = platform.Variant
	cfg.Config = v1.Config{
		Entrypoint: []string{BinaryPath},
		User:       User,
		WorkingDir: HomeDir,
		Env: []string{
			"PATH=/",
			"HOME=" + HomeDir,
			"SSL_CERT_FILE=" + CertFile,
		},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}, "8081/tcp": {}},
		Labels:       maps.Clone(opts.Labels),
	}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("build image: write config: %w", err)
	}
	return img, nil
}

// file is one entry of a layer; a nil data with a directory mode is a directory.
type file struct {
	name     string
	mode     int64
	dir      bool
	uid, gid int
	data     []byte
}

// baseFiles are what distroless/static gives: passwd and group with root and nonroot, CA certificates, a
// sticky world-writable /tmp and nonroot's home.
func baseFiles(caCerts []byte) []file {
	return []file{
		{name: "etc/", dir: true, mode: 0o755},
		{name: "etc/group", mode: 0o644, data: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{name: "etc/nsswitch.conf", mode: 0o644, data: []byte("hosts: files dns\n")},
		{name: "etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{name: "etc/ssl/", dir: true, mode: 0o755},
		{name: "etc/ssl/certs/", dir: true, mode: 0o755},
		{name: CertFile[1:], mode: 0o644, data: caCerts},
		{name: "home/", dir: true, mode: 0o755},
		{name: HomeDir[1:] + "/", dir: true, mode: 0o700, uid: UID, gid: UID},
		{name: "tmp/", dir: true, mode: 0o1777},
	}
}

// layer writes files into a tar with fixed owners and times, in a fixed order, and compresses it with the
// library's deterministic gzip: the digest depends on the contents alone.
func layer(files []file, created time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	sorted := slices.SortedFunc(slices.Values(files), func(a, b file) int { return cmp.Compare(a.name, b.name) })
	for _, f := range sorted {
		hdr := &tar.Header{
			Name:    f.name,
			Mode:    f.mode,
			Uid:     f.uid,
			Gid:     f.gid,
			ModTime: created,
			Format:  tar.FormatPAX,
		}
		if f.dir {
			hdr.Typeflag = tar.TypeDir
		} else {
			hdr.Typeflag = tar.TypeReg
			hdr.Size = int64(len(f.data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("write %s header: %w", f.name, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close tar: %w", err)
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// Compile cross-compiles pkg (e.g. "./cmd/osprey") from the module in dir into out as a static binary for
// platform, with the flags that make the result reproducible: no cgo, no local paths, no build id.
func Compile(ctx context.Context, dir, pkg, out string, platform v1.Platform) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"CGO_ENABLED=0",
		"GOOS="+cmp.Or(platform.OS, "linux"),
		"GOARCH="+cmp.Or(platform.Architecture, "amd64"),
	)
	output, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("compile %s: %w\n%s", pkg, err, output)
	}
	return nil
}
