package server

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/kv"
	"github.com/ospreyhq/osprey/store"
)

// kvEntry is one key of a namespace as Kestra lists it.
type kvEntry struct {
	Namespace      string     `json:"namespace,omitempty"`
	Key            string     `json:"key"`
	Description    string     `json:"description,omitempty"`
	CreationDate   time.Time  `json:"creationDate"`
	UpdateDate     time.Time  `json:"updateDate"`
	ExpirationDate *time.Time `json:"expirationDate,omitempty"`
}

// kvValue is an entry's value with its type, as Kestra answers it.
type kvValue struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// listKV answers the live keys of a namespace, by key.
func (s *Server) listKV(w http.ResponseWriter, r *http.Request) error {
	list, err := s.opts.Store.KV().List(r.Context(), r.PathValue("namespace"))
	if err != nil {
		return err
	}
	out := make([]kvEntry, len(list))
	for i, e := range list {
		out[i] = entryJSON(e)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listAllKV is Kestra's GET /kv (listAllKeys): every namespace's live
// entries, paged, by namespace then key.
func (s *Server) listAllKV(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	page, size, err := paging(q.Get("page"), q.Get("size"))
	if err != nil {
		return err
	}
	list, err := s.opts.Store.KV().List(r.Context(), "")
	if err != nil {
		return err
	}
	out := []kvEntry{}
	from := min((page-1)*size, len(list))
	for _, e := range list[from:min(from+size, len(list))] {
		out = append(out, entryJSON(e))
	}
	writeJSON(w, http.StatusOK, pagedResults[kvEntry]{Results: out, Total: len(list)})
	return nil
}

// listInheritedKV is Kestra's GET /namespaces/{namespace}/kv/inheritance:
// the live entries of the namespace's parents (acme.team.etl: acme.team,
// then acme), each with its namespace.
func (s *Server) listInheritedKV(w http.ResponseWriter, r *http.Request) error {
	out := []kvEntry{}
	ns := r.PathValue("namespace")
	for i := strings.LastIndexByte(ns, '.'); i > 0; i = strings.LastIndexByte(ns, '.') {
		ns = ns[:i]
		list, err := s.opts.Store.KV().List(r.Context(), ns)
		if err != nil {
			return err
		}
		for _, e := range list {
			out = append(out, entryJSON(e))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func entryJSON(e store.KVRecord) kvEntry {
	return kvEntry{Namespace: e.Namespace, Key: e.Key, Description: e.Description, CreationDate: e.Created, UpdateDate: e.Updated, ExpirationDate: e.Expires}
}

// getKV answers one entry's typed value.
func (s *Server) getKV(w http.ResponseWriter, r *http.Request) error {
	ns, key := r.PathValue("namespace"), r.PathValue("key")
	if err := kv.CheckKey(key); err != nil {
		return Errorf(http.StatusBadRequest, err.Error())
	}
	rec, err := s.opts.Store.KV().Get(r.Context(), ns, key)
	if err != nil {
		return fmt.Errorf("KV %s/%s: %w", ns, key, err)
	}
	v, err := kv.Decode(rec)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, kvValue{Type: rec.Type, Value: v})
	return nil
}

// putKV sets an entry from the request body, as Kestra's API does: a JSON
// body (or a text body that parses as JSON) keeps its JSON type, any other
// text is a STRING. The `ttl` header (ISO 8601 duration) makes it expire.
func (s *Server) putKV(w http.ResponseWriter, r *http.Request) error {
	ns, key := r.PathValue("namespace"), r.PathValue("key")
	if err := kv.CheckKey(key); err != nil {
		return Errorf(http.StatusBadRequest, err.Error())
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("read KV value: %w", badRequest(err)) // an oversized body stays a 413
	}
	var v any
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err := flow.DecodeJSON(body, &v); err != nil {
		if mt == "application/json" {
			return Errorf(http.StatusBadRequest, "the body is not valid JSON: "+err.Error())
		}
		v = string(body)
	}
	typ, raw, err := kv.Encode(v, "")
	if err != nil {
		return Errorf(http.StatusBadRequest, err.Error())
	}
	rec := store.KVRecord{Namespace: ns, Key: key, Type: typ, Value: raw}
	if ttl := strings.TrimSpace(r.Header.Get("ttl")); ttl != "" {
		d, err := flow.ParseDuration(ttl)
		if err != nil || d <= 0 {
			return Errorf(http.StatusBadRequest, fmt.Sprintf("ttl %q is not a positive ISO 8601 duration such as PT1H", ttl))
		}
		exp := time.Now().UTC().Add(d)
		rec.Expires = &exp
	}
	if err := s.opts.Store.KV().Put(r.Context(), rec); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// deleteKV removes an entry and answers whether there was one.
func (s *Server) deleteKV(w http.ResponseWriter, r *http.Request) error {
	ns, key := r.PathValue("namespace"), r.PathValue("key")
	if err := kv.CheckKey(key); err != nil {
		return Errorf(http.StatusBadRequest, err.Error())
	}
	err := s.opts.Store.KV().Delete(r.Context(), ns, key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	writeJSON(w, http.StatusOK, err == nil)
	return nil
}
