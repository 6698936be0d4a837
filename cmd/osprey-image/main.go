// Command osprey-image builds Osprey's container image without a Docker daemon and writes it as an OCI archive
// (or a `docker save` tarball). Run it from the repository root:
//
//	go run ./cmd/osprey-image -tag ghcr.io/ospreyhq/osprey:0.1.0 -output osprey.tar
//	skopeo copy oci-archive:osprey.tar docker://ghcr.io/ospreyhq/osprey:0.1.0   # or docker load -i (Docker 25+)
//
// With -format docker it writes a `docker save` tarball instead, for older Docker engines and `crane push`.
//
// It cross-compiles ./cmd/osprey for linux (CGO_ENABLED=0), layers it onto a non-root base with the build
// machine's CA certificates, and fixes every timestamp to SOURCE_DATE_EPOCH (0 when unset), so the same commit
// gives the same image digest anywhere.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ospreyhq/osprey/deploy/image"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run is the command with its process dependencies injected; it returns the exit code (2 for usage errors).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fset := flag.NewFlagSet("osprey-image", flag.ContinueOnError)
	fset.SetOutput(stderr)
	var (
		pkg     = fset.String("package", "./cmd/osprey", "Go package of the binary, compiled from -module-dir")
		binary  = fset.String("binary", "", "use this prebuilt linux binary instead of compiling -package")
		modDir  = fset.String("module-dir", ".", "directory of the Go module that holds -package")
		arch    = fset.String("arch", "amd64", "target architecture (GOARCH)")
		output  = fset.String("output", "osprey-image.tar", "file to write")
		format  = fset.String("format", "oci", "oci (OCI layout archive) or docker (docker save tarball)")
		tag     = fset.String("tag", "ghcr.io/ospreyhq/osprey:dev", "image reference recorded in the archive")
		caCerts = fset.String("ca-certs", "/etc/ssl/certs/ca-certificates.crt", "PEM bundle of CA certificates to include")
		epoch   = fset.String("source-date-epoch", getenv("SOURCE_DATE_EPOCH"), "Unix time stamped on the image and its files (default $SOURCE_DATE_EPOCH, else 0)")
	)
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(stderr, "osprey-image: unexpected argument %q (flags only; see -h)\n", fset.Arg(0))
		return 2
	}
	if *format != "oci" && *format != "docker" {
		fmt.Fprintf(stderr, "osprey-image: -format %q: want oci or docker\n", *format)
		return 2
	}
	ref, err := name.NewTag(*tag)
	if err != nil {
		fmt.Fprintf(stderr, "osprey-image: -tag: %v\n", err)
		return 2
	}
	created := time.Unix(0, 0)
	if *epoch != "" {
		secs, err := strconv.ParseInt(*epoch, 10, 64)
		if err != nil {
			fmt.Fprintf(stderr, "osprey-image: source date epoch %q: want Unix seconds\n", *epoch)
			return 2
		}
		created = time.Unix(secs, 0)
	}

	digest, err := build(ctx, buildParams{
		pkg: *pkg, binary: *binary, modDir: *modDir, arch: *arch, output: *output, format: *format,
		ref: ref, caCerts: *caCerts, created: created,
	})
	if err != nil {
		fmt.Fprintf(stderr, "osprey-image: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s (%s, %s) %s\n", *output, *format, ref.Name(), digest)
	return 0
}

type buildParams struct {
	pkg, binary, modDir, arch, output, format string
	ref                                       name.Tag
	caCerts                                   string
	created                                   time.Time
}

func build(ctx context.Context, p buildParams) (v1.Hash, error) {
	certs, err := os.ReadFile(p.caCerts)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("read CA certificates: %w (install ca-certificates or pass -ca-certs FILE)", err)
	}
	platform := v1.Platform{OS: "linux", Architecture: p.arch}
	bin := p.binary
	if bin == "" {
		dir, err := os.MkdirTemp("", "osprey-image-*")
		if err != nil {
			return v1.Hash{}, fmt.Errorf("compile: %w", err)
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "osprey")
		if err := image.Compile(ctx, p.modDir, p.pkg, bin, platform); err != nil {
			return v1.Hash{}, err
		}
	}
	img, err := image.Build(image.Options{
		Binary:         bin,
		Platform:       platform,
		CACertificates: certs,
		Created:        p.created,
		Labels: map[string]string{
			"org.opencontainers.image.title":   "osprey",
			"org.opencontainers.image.source":  "https://github.com/ospreyhq/osprey",
			"org.opencontainers.image.version": p.ref.TagStr(),
		},
	})
	if err != nil {
		return v1.Hash{}, err
	}
	if p.format == "docker" {
		if err := image.WriteDockerTarball(p.output, img, p.ref.Name()); err != nil {
			return v1.Hash{}, err
		}
	} else if err := writeFile(p.output, func(w io.Writer) error { return image.WriteOCIArchive(w, img, p.ref.Name()) }); err != nil {
		return v1.Hash{}, err
	}
	return img.Digest()
}

// writeFile writes through a temporary file renamed into place, so a failed build leaves no half archive.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".osprey-image-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	// CreateTemp makes the file private; an image archive is meant to be shared.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
