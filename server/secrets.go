package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/secrets"
)

// SecretManager is what the secrets API needs: listings and writes, never
// a value. *secrets.Manager implements it.
type SecretManager interface {
	List(ctx context.Context, namespace string) ([]secrets.Meta, error)
	Inherited(ctx context.Context, namespace string) (map[string][]string, error)
	ReadOnly() bool
	Put(ctx context.Context, p secrets.PutParams) error
	Patch(ctx context.Context, p secrets.PatchParams) error
	Delete(ctx context.Context, namespace, key string) error
}

// SecretBackend describes where secrets live, for the UI to show: the
// backend type (azure-key-vault, env, embedded) and, for a vault, its URL.
type SecretBackend struct {
	Type     string `json:"type"`
	Location string `json:"location,omitempty"`
}

// MountSecrets adds Kestra's secrets API backed by m. No endpoint returns
// a value; writes on a read-only manager answer 405 with the reason.
func (s *Server) MountSecrets(m SecretManager) { s.MountSecretsOf(m, SecretBackend{}) }

// MountSecretsOf is MountSecrets that also names the backend in every
// listing (Osprey's "backend" field).
func (s *Server) MountSecretsOf(m SecretManager, backend SecretBackend) {
	h := secretHandlers{m: m, backend: backend}
	s.Handle("GET /secrets", h.search)
	s.Handle("GET /namespaces/{namespace}/secrets", h.listNamespace)
	s.Handle("PUT /namespaces/{namespace}/secrets", h.put)
	s.Handle("PATCH /namespaces/{namespace}/secrets/{key}", h.patch)
	s.Handle("DELETE /namespaces/{namespace}/secrets/{key}", h.delete)
	s.Handle("GET /namespaces/{namespace}/inherited-secrets", h.inherited)
}

type secretHandlers struct {
	m       SecretManager
	backend SecretBackend
}

// tagJSON is Kestra's {key, value} tag pair.
type tagJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// secretMetaJSON is Kestra's ApiSecretMeta.
type secretMetaJSON struct {
	Namespace   string     `json:"namespace"`
	Key         string     `json:"key"`
	Description string     `json:"description,omitempty"`
	Tags        []tagJSON  `json:"tags"`
	Updated     *time.Time `json:"updated,omitempty"`
}

// secretListJSON is Kestra's ApiSecretListResponse.
type secretListJSON struct {
	ReadOnly bool             `json:"readOnly"`
	Backend  *SecretBackend   `json:"backend,omitempty"` // Osprey's addition
	Results  []secretMetaJSON `json:"results"`
	Total    int              `json:"total"`
}

var secretKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func checkKey(k string) error {
	if len(k) > flow.MaxKey {
		return Errorf(http.StatusBadRequest, fmt.Sprintf("secret key is %d characters; the limit is %d", len(k), flow.MaxKey))
	}
	if !secretKeyRE.MatchString(k) {
		return Errorf(http.StatusBadRequest, fmt.Sprintf("secret key %q: use letters, digits and underscores, starting with a letter or underscore (e.g. DB_PASSWORD)", k))
	}
	return nil
}

func metaJSON(m secrets.Meta) secretMetaJSON {
	out := secretMetaJSON{Namespace: m.Namespace, Key: m.Key, Description: m.Description, Tags: []tagJSON{}}
	for k, v := range m.Tags {
		out.Tags = append(out.Tags, tagJSON{Key: k, Value: v})
	}
	sort.Slice(out.Tags, func(i, j int) bool { return out.Tags[i].Key < out.Tags[j].Key })
	if !m.Updated.IsZero() {
		u := m.Updated.UTC()
		out.Updated = &u
	}
	return out
}

// secretError maps the secrets sentinels to statuses. Their messages name
// keys, namespaces and fixes, never values.
func secretError(err error) error {
	var api *Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &api):
		return err
	case errors.Is(err, secrets.ErrReadOnly):
		return Errorf(http.StatusMethodNotAllowed, err.Error())
	case errors.Is(err, secrets.ErrForbidden):
		return Errorf(http.StatusForbidden, err.Error())
	case errors.Is(err, secrets.ErrNotFound):
		return Errorf(http.StatusNotFound, err.Error())
	case errors.Is(err, secrets.ErrConflict):
		return Errorf(http.StatusConflict, err.Error())
	case errors.Is(err, secrets.ErrInvalid):
		return Errorf(http.StatusBadRequest, err.Error())
	case errors.Is(err, secrets.ErrUnavailable):
		return Errorf(http.StatusServiceUnavailable, err.Error())
	}
	return err
}

func (h secretHandlers) respondList(w http.ResponseWriter, r *http.Request, namespace string) error {
	q := r.URL.Query()
	page, size, err := paging(q.Get("page"), q.Get("size"))
	if err != nil {
		return err
	}
	list, err := h.m.List(r.Context(), namespace)
	if err != nil {
		return secretError(err)
	}
	filter := strings.ToLower(q.Get("q"))
	if filter == "" {
		filter = strings.ToLower(q.Get("filters[q][EQUALS]"))
	}
	prefix := q.Get("namespace")
	var keep []secretMetaJSON
	for _, m := range list {
		if prefix != "" && m.Namespace != prefix && !strings.HasPrefix(m.Namespace, prefix+".") {
			continue
		}
		if filter != "" && !strings.Contains(strings.ToLower(m.Key), filter) && !strings.Contains(strings.ToLower(m.Description), filter) {
			continue
		}
		keep = append(keep, metaJSON(m))
	}
	out := secretListJSON{ReadOnly: h.m.ReadOnly(), Total: len(keep), Results: []secretMetaJSON{}}
	if h.backend.Type != "" {
		out.Backend = &h.backend
	}
	if from := (page - 1) * size; from < len(keep) {
		out.Results = keep[from:min(from+size, len(keep))]
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h secretHandlers) search(w http.ResponseWriter, r *http.Request) error {
	return h.respondList(w, r, secrets.AllNamespaces)
}

func (h secretHandlers) listNamespace(w http.ResponseWriter, r *http.Request) error {
	ns := r.PathValue("namespace")
	return h.respondList(w, r, ns)
}

func (h secretHandlers) inherited(w http.ResponseWriter, r *http.Request) error {
	ns := r.PathValue("namespace")
	got, err := h.m.Inherited(r.Context(), ns)
	if err != nil {
		return secretError(err)
	}
	for _, keys := range got {
		sort.Strings(keys)
	}
	writeJSON(w, http.StatusOK, got)
	return nil
}

func decodeSecretBody(r *http.Request, v any) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		// The decoder's message can quote the body; keep only its kind.
		return Errorf(http.StatusBadRequest, "the body must be a JSON object {key, value, description, tags: [{key, value}]}")
	}
	return nil
}

func tagsMap(tags []tagJSON) (map[string]string, error) {
	if tags == nil {
		return nil, nil
	}
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		if t.Key == "" {
			return nil, Errorf(http.StatusBadRequest, "every tag needs a key")
		}
		out[t.Key] = t.Value
	}
	return out, nil
}

func (h secretHandlers) put(w http.ResponseWriter, r *http.Request) error {
	ns := r.PathValue("namespace")
	if h.m.ReadOnly() {
		return secretError(fmt.Errorf("%w: the secret backend is read-only (kestra.secret.read-only, or a backend such as env that Osprey cannot write); change secrets where they live", secrets.ErrReadOnly))
	}
	var body struct {
		Key         string    `json:"key"`
		Value       *string   `json:"value"`
		Description string    `json:"description"`
		Tags        []tagJSON `json:"tags"`
	}
	if err := decodeSecretBody(r, &body); err != nil {
		return err
	}
	if err := checkKey(body.Key); err != nil {
		return err
	}
	if body.Value == nil || *body.Value == "" {
		return Errorf(http.StatusBadRequest, "value is required")
	}
	tags, err := tagsMap(body.Tags)
	if err != nil {
		return err
	}
	p := secrets.PutParams{Namespace: ns, Key: body.Key, Value: *body.Value, Description: body.Description, Tags: tags}
	if err := h.m.Put(r.Context(), p); err != nil {
		return secretError(err)
	}
	// Kestra's spec (putSecrets) answers a list of secret metadata: the
	// secret written, alone.
	writeJSON(w, http.StatusOK, []any{metaJSON(secrets.Meta{Namespace: ns, Key: body.Key, Description: body.Description, Tags: tags})})
	return nil
}

func (h secretHandlers) patch(w http.ResponseWriter, r *http.Request) error {
	ns, key := r.PathValue("namespace"), r.PathValue("key")
	if err := checkKey(key); err != nil {
		return err
	}
	// The spec's body (ApiSecretMetaEE) names the key too, as Kestra's
	// clients send it; it must be the path's.
	var body struct {
		Key         string    `json:"key"`
		Description *string   `json:"description"`
		Tags        []tagJSON `json:"tags"`
	}
	if err := decodeSecretBody(r, &body); err != nil {
		return err
	}
	if body.Key != "" && body.Key != key {
		return Errorf(http.StatusBadRequest, fmt.Sprintf("the body names key %q but the path names %q: a patch cannot rename a secret", body.Key, key))
	}
	tags, err := tagsMap(body.Tags)
	if err != nil {
		return err
	}
	if err := h.m.Patch(r.Context(), secrets.PatchParams{Namespace: ns, Key: key, Description: body.Description, Tags: tags}); err != nil {
		return secretError(err)
	}
	list, err := h.m.List(r.Context(), ns)
	if err != nil {
		return secretError(err)
	}
	// A list, as the spec says of patchSecret: the secret patched, alone.
	for _, m := range list {
		if m.Key == key {
			writeJSON(w, http.StatusOK, []any{metaJSON(m)})
			return nil
		}
	}
	writeJSON(w, http.StatusOK, []any{metaJSON(secrets.Meta{Namespace: ns, Key: key})})
	return nil
}

func (h secretHandlers) delete(w http.ResponseWriter, r *http.Request) error {
	ns, key := r.PathValue("namespace"), r.PathValue("key")
	if err := checkKey(key); err != nil {
		return err
	}
	if err := h.m.Delete(r.Context(), ns, key); err != nil {
		return secretError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
