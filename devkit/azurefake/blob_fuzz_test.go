package azurefake

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzBlobRequest sends the Blob service any request — method, path,
// query, headers (one "Name: value" a line) and body — signed with the
// account's Shared Key when sign is set, so that it gets past
// authentication to the XML, range, condition and metadata handling.
// Whatever it is, the emulator answers with a valid status, an error
// carries its code, and the account keeps serving.
func FuzzBlobRequest(f *testing.F) {
	emu := Start(f)
	acct, err := emu.AddStorageAccount(StorageAccountOptions{Name: "acct"})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []struct {
		method, path, query, headers, body string
	}{
		{"PUT", "cont", "restype=container", "", ""},
		{"PUT", "cont/b.txt", "", "x-ms-blob-type: BlockBlob\nx-ms-meta-a: 1\nContent-Type: text/plain", "hello"},
		{"GET", "cont/b.txt", "", "x-ms-range: bytes=1-3", ""},
		{"GET", "cont/b.txt", "", "Range: bytes=-5\nIf-None-Match: \"0x1\", *", ""},
		{"PUT", "cont/b.txt", "comp=block&blockid=QUFBQQ%3D%3D", "", "part"},
		{"PUT", "cont/b.txt", "comp=blocklist", "", `<?xml version="1.0"?><BlockList><Latest>QUFBQQ==</Latest><Uncommitted>QkJCQg==</Uncommitted></BlockList>`},
		{"GET", "cont", "restype=container&comp=list&prefix=b&delimiter=/&maxresults=1&include=metadata,tags", "", ""},
		{"PUT", "cont/copy.txt", "", "x-ms-copy-source: " + acct.URL() + "cont/b.txt\nx-ms-requires-sync: true", ""},
		{"PUT", "cont/copy2.txt", "", "x-ms-copy-source: " + acct.URL() + "cont/b.txt\nIf-None-Match: *", ""},
		{"PUT", "cont/b.txt", "comp=properties", "x-ms-blob-content-type: a/b\nIf-Match: *\nIf-Unmodified-Since: Mon, 07 Dec 2026 10:00:00 GMT", ""},
		{"DELETE", "cont/b.txt", "", "x-ms-delete-snapshots: include", ""},
		{"GET", "", "comp=list&marker=zz", "", ""},
	} {
		f.Add(s.method, s.path, s.query, s.headers, []byte(s.body), true)
	}
	h := acct.handler()
	send := func(t *testing.T, method, path, query string, header http.Header, body []byte, sign bool) *httptest.ResponseRecorder {
		req, err := http.NewRequest(method, "https://127.0.0.1/acct/"+path+"?"+query, bytes.NewReader(body))
		if err != nil {
			return nil
		}
		for k, v := range header {
			req.Header[k] = v
		}
		req.Header.Set("x-ms-date", emu.Clock().Now().UTC().Format(http.TimeFormat))
		req.Header.Set("x-ms-version", blobAPIVersion)
		if sign {
			req.Header.Set("Authorization", "SharedKey acct:"+acct.sign(acct.stringToSign(req)))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	f.Fuzz(func(t *testing.T, method, path, query, headers string, body []byte, sign bool) {
		if len(path)+len(query)+len(headers)+len(body) > 8192 {
			t.Skip()
		}
		header := http.Header{}
		for _, line := range strings.Split(headers, "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		rec := send(t, method, path, query, header, body, sign)
		if rec == nil {
			return
		}
		if rec.Code < 100 || rec.Code > 599 {
			t.Fatalf("%s %s?%s: status %d", method, path, query, rec.Code)
		}
		if rec.Code >= 400 && rec.Header().Get("x-ms-error-code") == "" {
			t.Fatalf("%s %s?%s: status %d without an error code: %s", method, path, query, rec.Code, rec.Body)
		}
		_, _ = io.Copy(io.Discard, rec.Body)
		if after := send(t, "GET", "", "comp=list", nil, nil, true); after == nil || after.Code != http.StatusOK {
			t.Fatalf("after %s %s?%s the account no longer lists its containers", method, path, query)
		}
	})
}
