package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/ospreyhq/osprey/store"
)

// Kestra EE's namespace resource, limited to what Osprey enforces:
// allowedNamespaces, the namespaces whose flows may read this namespace's
// secrets by naming it. GET answers for any namespace (one without
// settings has an empty list: no restriction); PUT replaces the list.

// namespaceJSON is Kestra's Namespace as Osprey reads and writes it.
type namespaceJSON struct {
	ID                string        `json:"id"`
	AllowedNamespaces []allowedJSON `json:"allowedNamespaces"`
	Deleted           bool          `json:"deleted"`
}

type allowedJSON struct {
	Namespace string `json:"namespace"`
}

// namespaceName is Kestra's rule for namespace names.
var namespaceName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

func (s *Server) getNamespace(w http.ResponseWriter, r *http.Request) error {
	ns := r.PathValue("namespace")
	if !namespaceName.MatchString(ns) {
		return Errorf(http.StatusBadRequest, fmt.Sprintf("%q is not a namespace: use lower-case letters, digits, '.', '-' and '_'", ns))
	}
	rec, err := s.opts.Store.Namespaces().Get(r.Context(), ns)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	writeJSON(w, http.StatusOK, toNamespaceJSON(ns, rec.AllowedNamespaces))
	return nil
}

func (s *Server) putNamespace(w http.ResponseWriter, r *http.Request) error {
	ns := r.PathValue("namespace")
	if !namespaceName.MatchString(ns) {
		return Errorf(http.StatusBadRequest, fmt.Sprintf("%q is not a namespace: use lower-case letters, digits, '.', '-' and '_'", ns))
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var in namespaceJSON
	if err := json.Unmarshal(body, &in); err != nil {
		return Errorf(http.StatusBadRequest, "the body must be a namespace: {\"id\": \""+ns+"\", \"allowedNamespaces\": [{\"namespace\": \"…\"}]}")
	}
	if in.ID != "" && in.ID != ns {
		return Errorf(http.StatusUnprocessableEntity, fmt.Sprintf("the body's id %q is not the namespace of the path, %q", in.ID, ns))
	}
	var allowed []string
	for i, a := range in.AllowedNamespaces {
		if !namespaceName.MatchString(a.Namespace) {
			return Errorf(http.StatusUnprocessableEntity, fmt.Sprintf("allowedNamespaces[%d]: %q is not a namespace", i, a.Namespace))
		}
		allowed = append(allowed, a.Namespace)
	}
	if err := s.opts.Store.Namespaces().Put(r.Context(), store.NamespaceRecord{Namespace: ns, AllowedNamespaces: allowed}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toNamespaceJSON(ns, allowed))
	return nil
}

func toNamespaceJSON(ns string, allowed []string) namespaceJSON {
	out := namespaceJSON{ID: ns, AllowedNamespaces: []allowedJSON{}}
	for _, a := range allowed {
		out.AllowedNamespaces = append(out.AllowedNamespaces, allowedJSON{Namespace: a})
	}
	return out
}
