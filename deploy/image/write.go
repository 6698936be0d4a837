package image

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// refNameAnnotation names the image inside an OCI layout, as `skopeo copy oci-archive:` and `docker load` read it.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// WriteOCIArchive writes img as a tar of an OCI image layout, the format `docker load` (25+), `podman load`,
// `skopeo copy oci-archive:…` and `crane push` accept. ref (e.g. ghcr.io/ospreyhq/osprey:0.1.0) names the
// image in the index. The archive's bytes depend only on img and ref.
func WriteOCIArchive(w io.Writer, img v1.Image, ref string) error {
	if _, err := name.ParseReference(ref); err != nil {
		return fmt.Errorf("write oci archive: %w", err)
	}
	dir, err := os.MkdirTemp("", "osprey-oci-*")
	if err != nil {
		return fmt.Errorf("write oci archive: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := WriteOCILayout(dir, img, ref); err != nil {
		return fmt.Errorf("write oci archive: %w", err)
	}
	if err := tarDir(w, dir); err != nil {
		return fmt.Errorf("write oci archive: %w", err)
	}
	return nil
}

// WriteOCILayout writes img into a new OCI image layout directory, named ref in its index.
func WriteOCILayout(dir string, img v1.Image, ref string) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("write oci layout: %w", err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{refNameAnnotation: ref})); err != nil {
		return fmt.Errorf("write oci layout: %w", err)
	}
	return nil
}

// WriteDockerTarball writes img in `docker save` format, tagged tag, for older Docker engines.
func WriteDockerTarball(path string, img v1.Image, tag string) error {
	t, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("write docker tarball: %w", err)
	}
	if err := tarball.WriteToFile(path, t, img); err != nil {
		return fmt.Errorf("write docker tarball: %w", err)
	}
	return nil
}

// tarDir archives dir with sorted entries (fs.WalkDir walks in lexical order), root ownership and the epoch as
// every time, so that the archive is as reproducible as its contents.
func tarDir(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := fs.WalkDir(os.DirFS(dir), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == "." {
			return err
		}
		hdr := &tar.Header{Name: path, Mode: 0o644, ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if d.IsDir() {
			hdr.Name += "/"
			hdr.Mode = 0o755
			hdr.Typeflag = tar.TypeDir
			return tw.WriteHeader(hdr)
		}
		f, err := os.Open(filepath.Join(dir, path))
		if err != nil {
			return err
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			return err
		}
		hdr.Size = info.Size()
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return fmt.Errorf("archive %s: %w", dir, err)
	}
	return tw.Close()
}
