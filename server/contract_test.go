package server

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/shared"
)

// The contract: every response the API tests provoke, on a path of Kestra's
// published OpenAPI spec (../shared/kestra-openapi/kestra-ee.yml, the one
// its generated clients come from), must match what the spec says of that
// operation and status. The test handlers are wrapped with Contract, so
// each API test checks the contract as it goes; a test that answers off
// the spec fails with the operation and the difference.

// specName is the spec in the shared material beside the repository (or
// under $OSPREY_SHARED_DIR). Without it the contract is not checked outside
// CI, and TestContractSpec says so.
const specName = "kestra-openapi/kestra-ee.yml"

var contract struct {
	once   sync.Once
	router routers.Router
	err    error
}

func contractRouter() (routers.Router, error) {
	contract.once.Do(func() {
		specPath, err := shared.Find(specName)
		if err != nil {
			contract.err = err
			return
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(specPath)
		if err != nil {
			contract.err = fmt.Errorf("load %s: %w", specPath, err)
			return
		}
		doc.Servers = openapi3.Servers{{URL: "/"}}
		// kill's answer is text/json in the spec (Micronaut's name for JSON).
		openapi3filter.RegisterBodyDecoder("text/json", openapi3filter.JSONBodyDecoder)
		seen := map[*openapi3.Schema]bool{}
		for _, s := range doc.Components.Schemas {
			relaxJavaArtifacts(s, seen)
		}
		contract.router, contract.err = gorillamux.NewRouter(doc)
	})
	return contract.router, contract.err
}

// TestContractSpec loads Kestra's spec the contract checks are made
// against; where the shared material is missing it is skipped with a
// message (fails under CI=true), which is the only sign that the API tests
// then run without their contract checks.
func TestContractSpec(t *testing.T) {
	shared.Dir(t, specName)
	_, err := contractRouter()
	require.NoError(t, err)
}

// Contract wraps h so that every response to a request on one of the
// spec's paths is validated against the spec; a mismatch fails t. Outside
// CI, without the shared spec, h is returned as it is.
func Contract(t testing.TB, h http.Handler) http.Handler {
	router, err := contractRouter()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Kestra's OpenAPI spec is needed under CI for the contract checks: %v", err)
		}
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, params, err := router.FindRoute(r)
		if err == nil && deviations[route.Operation.OperationID] != "" {
			h.ServeHTTP(w, r)
			return
		}
		if err != nil || strings.HasSuffix(r.URL.Path, "/follow") {
			// Not a path of the spec (Osprey's own, or Kestra's older
			// tenant-less form), or a stream: served unchecked.
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())

		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{
				Request: r, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
			},
			Status: rec.Code,
			Header: rec.Header(),
			Body:   nopCloser{bytes.NewReader(rec.Body.Bytes())},
			Options: &openapi3filter.Options{
				IncludeResponseStatus: false, // statuses the spec leaves out (400, 422) are Osprey's errors
				MultiError:            true,
			},
		}
		if err := openapi3filter.ValidateResponse(r.Context(), in); err != nil {
			t.Errorf("contract: %s %s (%s) answered %d off Kestra's spec: %v\nbody: %.500s",
				r.Method, r.URL.Path, route.Operation.OperationID, rec.Code, err, rec.Body.String())
		}
	})
}

// deviations are the operations whose answers differ from the spec on
// purpose, with the reason; docs/api.md lists them too.
var deviations = map[string]string{
	"getFileContent": "a namespace file is served with a type a browser cannot run (text/plain for text, images as " +
		"themselves, else application/octet-stream) where the spec says octet-stream for all; the bytes are the same",
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// relaxJavaArtifacts undoes two things Kestra's spec generator writes that
// Kestra's own server does not honour either, so that the contract checks
// what Kestra answers rather than the generator's quirks:
//   - java.lang.Object comes out as `type: object` with nothing else,
//     where the value may be anything (an input's value, a KV value);
//   - Property<T> comes out as an object that is one of an object or a
//     string, where an expression string is what Kestra answers;
//   - Java getters come out as required read-only properties getX
//     (State.getDuration) that Jackson never writes.
func relaxJavaArtifacts(ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil || seen[ref.Value] {
		return
	}
	s := ref.Value
	seen[s] = true
	if s.Type.Is("object") && len(s.Properties) == 0 && s.AdditionalProperties.Schema == nil &&
		s.AdditionalProperties.Has == nil && len(s.OneOf)+len(s.AllOf)+len(s.AnyOf) == 0 {
		s.Type = nil
	}
	for _, m := range s.OneOf {
		if m.Value != nil && m.Value.Type.Is("string") {
			// Property<T>: `type: object` beside oneOf [object, string]
			// means "an object or a string" (a value or an expression).
			s.Type = nil
		}
	}
	required := s.Required[:0:0]
	for _, name := range s.Required {
		p := s.Properties[name]
		if strings.HasPrefix(name, "get") && p != nil && p.Value != nil && p.Value.ReadOnly {
			continue
		}
		required = append(required, name)
	}
	s.Required = required
	for _, p := range s.Properties {
		relaxJavaArtifacts(p, seen)
	}
	relaxJavaArtifacts(s.Items, seen)
	relaxJavaArtifacts(s.AdditionalProperties.Schema, seen)
	// oneOf members stay as written: [object, string] must stay two.
	for _, l := range [][]*openapi3.SchemaRef{s.AllOf, s.AnyOf} {
		for _, x := range l {
			relaxJavaArtifacts(x, seen)
		}
	}
}
