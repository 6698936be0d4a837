package azurefake

import (
	"crypto/md5"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// container is one blob container.
type container struct {
	name     string
	created  time.Time
	modified time.Time
	etag     string
	metadata map[string]string
	blobs    map[string]*blobEntry // committed blobs by name
	pending  map[string]*pendingBlocks
}

// blobEntry is a committed block blob: an ordered list of parts on disk.
type blobEntry struct {
	name        string
	parts       []part
	size        int64
	etag        string
	created     time.Time
	modified    time.Time
	contentType string
	contentMD5  []byte // of the whole content, when known (Put Blob) or set
	metadata    map[string]string
	blockIDs    []string // committed block ids, in order; nil for Put Blob
}

// part is a file holding a run of the blob's bytes (one block, or the
// whole content of a Put Blob).
type part struct {
	file string
	size int64
}

// pendingBlocks are a blob's uncommitted blocks, by block id.
type pendingBlocks struct {
	blocks map[string]part
}

// writePart streams r into a new file of the account's directory and
// returns it with the MD5 of its content.
func (a *StorageAccount) writePart(r io.Reader, limit int64) (part, []byte, error) {
	a.mu.Lock()
	a.seq++
	name := filepath.Join(a.dir, fmt.Sprintf("p%012d", a.seq))
	a.mu.Unlock()
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return part{}, nil, err
	}
	h := md5.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > limit {
		err = errTooLarge
	}
	if err != nil {
		_ = os.Remove(name)
		return part{}, nil, err
	}
	return part{file: name, size: n}, h.Sum(nil), nil
}

var errTooLarge = fmt.Errorf("request body too large")

func removeParts(parts []part) {
	for _, p := range parts {
		_ = os.Remove(p.file)
	}
}

// copyParts duplicates a blob's parts into new files (a copy must not
// share files with its source, which may be replaced or deleted).
func (a *StorageAccount) copyParts(parts []part) ([]part, []byte, error) {
	h := md5.New()
	var out []part
	for _, p := range parts {
		f, err := os.Open(p.file)
		if err != nil {
			removeParts(out)
			return nil, nil, err
		}
		np, _, err := a.writePart(io.TeeReader(f, h), p.size)
		_ = f.Close()
		if err != nil {
			removeParts(out)
			return nil, nil, err
		}
		out = append(out, np)
	}
	return out, h.Sum(nil), nil
}

// maxPinnedParts bounds the files one read keeps open.
const maxPinnedParts = 1024

// pin opens a blob's part files while the account lock is held, so a read
// whose blob is replaced or deleted meanwhile still serves the version it
// started with, as Azure does (an open file outlives its name). Blobs of
// more parts are opened part by part as the read goes.
func pin(parts []part) map[string]*os.File {
	if len(parts) > maxPinnedParts {
		return nil
	}
	m := make(map[string]*os.File, len(parts))
	for _, p := range parts {
		if f, err := os.Open(p.file); err == nil {
			m[p.file] = f
		}
	}
	return m
}

// rangeReader reads [off, off+n) of a list of parts without loading them.
type rangeReader struct {
	parts  []part
	off    int64
	n      int64
	cur    *os.File
	left   int64
	pinned map[string]*os.File
}

func (r *rangeReader) Read(b []byte) (int, error) {
	for {
		if r.n <= 0 {
			return 0, io.EOF
		}
		if r.cur == nil {
			if len(r.parts) == 0 {
				return 0, io.ErrUnexpectedEOF
			}
			p := r.parts[0]
			r.parts = r.parts[1:]
			if r.off >= p.size {
				r.off -= p.size
				if f := r.pinned[p.file]; f != nil {
					_ = f.Close()
					delete(r.pinned, p.file)
				}
				continue
			}
			f, ok := r.pinned[p.file]
			delete(r.pinned, p.file)
			if !ok {
				var err error
				if f, err = os.Open(p.file); err != nil {
					return 0, err
				}
			}
			if _, err := f.Seek(r.off, io.SeekStart); err != nil {
				_ = f.Close()
				return 0, err
			}
			r.cur, r.left, r.off = f, p.size-r.off, 0
		}
		if int64(len(b)) > r.n {
			b = b[:r.n]
		}
		if int64(len(b)) > r.left {
			b = b[:r.left]
		}
		k, err := r.cur.Read(b)
		r.n -= int64(k)
		r.left -= int64(k)
		if r.left == 0 || err != nil {
			_ = r.cur.Close()
			r.cur = nil
			if err == io.EOF {
				err = nil
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}

func (r *rangeReader) Close() error {
	for _, f := range r.pinned {
		_ = f.Close()
	}
	r.pinned = nil
	if r.cur != nil {
		return r.cur.Close()
	}
	return nil
}
