package server

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
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

// The contract: every request the API tests send and every response they
// get, on a path of Kestra's published OpenAPI spec
// (../shared/kestra-openapi/kestra-ee.yml, the one its generated clients
// come from), must match what the spec says of that operation. The test
// servers are wrapped with Contract, so each API test checks the contract
// as it goes; an exchange off the spec fails the test with the operation
// and the difference. Once the whole package ran, TestMain fails when a
// route the server answers saw no validated exchange (checkCoverage).

// specName is the spec in the shared material beside the repository (or
// under $OSPREY_SHARED_DIR). Without it the contract is not checked outside
// CI, and TestContractSpec says so.
const specName = "kestra-openapi/kestra-ee.yml"

var contract struct {
	once   sync.Once
	doc    *openapi3.T
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
		// A flow's YAML is a string to the spec (its source), not the
		// document it holds: decode it as the text it is.
		for _, mt := range []string{"application/x-yaml", "application/yaml"} {
			openapi3filter.RegisterBodyDecoder(mt, textBody)
		}
		seen := map[*openapi3.Schema]bool{}
		for _, s := range doc.Components.Schemas {
			relaxJavaArtifacts(s, seen)
		}
		relaxOperations(doc, seen)
		contract.doc = doc
		contract.router, contract.err = gorillamux.NewRouter(doc)
	})
	return contract.router, contract.err
}

// exchanges counts, per served route ("METHOD /path" relative to the API
// prefix), the exchanges whose request and response were both validated
// against the spec; servers are the servers the tests wrapped.
var exchanges struct {
	mu        sync.Mutex
	validated map[string]int
	servers   []*Server
}

func recordServer(s *Server) {
	exchanges.mu.Lock()
	defer exchanges.mu.Unlock()
	exchanges.servers = append(exchanges.servers, s)
}

func recordValidated(route string) {
	exchanges.mu.Lock()
	defer exchanges.mu.Unlock()
	if exchanges.validated == nil {
		exchanges.validated = map[string]int{}
	}
	exchanges.validated[route]++
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

// Contract serves srv's API with every exchange on one of the spec's
// operations validated: the request with openapi3filter.ValidateRequest
// before the handler sees it, the response with ValidateResponse. A
// request off the spec that the server still accepted (any answer below
// 400), or a response off the spec, fails t. Requests the tests send off
// the spec on purpose are fine when the server refuses them. Outside CI,
// without the shared spec, the handler is returned as it is.
func Contract(t testing.TB, srv *Server) http.Handler {
	h := srv.Handler()
	router, err := contractRouter()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Kestra's OpenAPI spec is needed under CI for the contract checks: %v", err)
		}
		return h
	}
	recordServer(srv)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served := matchRoute(srv.servedRoutes(), r)
		route, params, err := router.FindRoute(r)
		if err != nil || served == "" || !sameOperation(route, params, served) {
			// Not a path of the spec (Osprey's own, Kestra's older
			// forms, the un-tenanted alias): served unchecked.
			h.ServeHTTP(w, r)
			return
		}
		op := route.Operation.OperationID
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("contract: read the request body of %s %s: %v", r.Method, r.URL.Path, err)
			return
		}
		vr := r.Clone(r.Context())
		vr.Body = io.NopCloser(bytes.NewReader(body))
		r.Body = io.NopCloser(bytes.NewReader(body))
		opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}
		if requestExtensions[op] != "" && !specMediaType(route.Operation, r.Header.Get("Content-Type")) {
			// A body in a type the spec does not name, documented as an
			// extension: the parameters are still checked, and the answer.
			opts.ExcludeRequestBody = true
		}
		reqErr := openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
			Request: vr, PathParams: params, Route: route, Options: opts,
		})

		if strings.HasSuffix(served, "/follow") {
			// A stream: the request is checked, the events are not buffered.
			h.ServeHTTP(w, r)
			if reqErr == nil {
				recordValidated(served)
			}
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())

		if reqErr != nil && rec.Code < 400 {
			t.Errorf("contract: %s %s (%s) sent off Kestra's spec and accepted with %d: %v\nrequest body: %.300s",
				r.Method, r.URL.String(), op, rec.Code, reqErr, body)
			return
		}
		if deviations[op] != "" {
			if reqErr == nil {
				recordValidated(served)
			}
			return
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{
				Request: vr, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
			},
			Status: rec.Code,
			Header: rec.Header(),
			Body:   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
			Options: &openapi3filter.Options{
				IncludeResponseStatus: false, // statuses the spec leaves out (400, 422) are Osprey's errors
				MultiError:            true,
			},
		}
		if err := openapi3filter.ValidateResponse(r.Context(), in); err != nil {
			t.Errorf("contract: %s %s (%s) answered %d off Kestra's spec: %v\nbody: %.500s",
				r.Method, r.URL.Path, op, rec.Code, err, rec.Body.String())
			return
		}
		if reqErr == nil {
			recordValidated(served)
		}
	})
}

// requestExtensions are the operations whose request bodies Osprey accepts
// in more media types than the spec names, with what it adds. A body in a
// type the spec names is always validated; one in an added type is not,
// but the request's parameters and the answer still are. docs/api.md
// lists them too.
var requestExtensions = map[string]string{
	"createExecution":     "inputs also as a JSON object or a urlencoded form, beside the spec's multipart/form-data",
	"resumeExecution":     "onResume inputs also as a JSON object or a urlencoded form, beside the spec's multipart/form-data",
	"setKeyValue":         "the value also as application/json (then it must parse) or with no type, beside the spec's text/plain",
	"createNamespaceFile": "the content also as the raw body, beside the spec's multipart/form-data part fileContent",
}

// deviations are the operations whose answers differ from the spec on
// purpose, with the reason; docs/api.md lists them too.
var deviations = map[string]string{
	"getFileContent": "a namespace file is served with a type a browser cannot run (text/plain for text, images as " +
		"themselves, else application/octet-stream) where the spec says octet-stream for all; the bytes are the same",
}

// textBody decodes a body as one string.
func textBody(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return string(b), nil
}

// specMediaType reports whether op's request body names the media type of
// contentType.
func specMediaType(op *openapi3.Operation, contentType string) bool {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return contentType == ""
	}
	mt, _, _ := strings.Cut(contentType, ";")
	return op.RequestBody.Value.Content.Get(strings.TrimSpace(mt)) != nil
}

// apiPath is p (a request's path or a spec path) relative to the API
// prefix, and the tenant it names ("" for the un-tenanted form).
func apiPath(p string) (rel, tenant string) {
	rest, ok := strings.CutPrefix(p, "/api/v1/")
	if !ok {
		return "", ""
	}
	seg, after, _ := strings.Cut(rest, "/")
	switch {
	case seg == "main" || seg == "{tenant}":
		return "/" + after, seg
	default:
		return "/" + rest, ""
	}
}

// shape is a path with every {param} written {}, so that two spellings of
// one route compare equal.
func shape(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			parts[i] = "{}"
		}
	}
	return strings.Join(parts, "/")
}

// matchRoute is the served route (as servedRoutes spells it) a request
// reaches, "" when none: the same method and number of segments, literal
// segments equal, and of several matches the one with the most literal
// segments first from the left, as Go's mux and Kestra's router prefer.
func matchRoute(routes []string, r *http.Request) string {
	rel, _ := apiPath(r.URL.Path)
	if rel == "" {
		return ""
	}
	want := strings.Split(rel, "/")
	best, bestScore := "", ""
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt, " ")
		if method != r.Method {
			continue
		}
		segs := strings.Split(path, "/")
		if len(segs) != len(want) {
			continue
		}
		score, ok := "", true
		for i, s := range segs {
			switch {
			case strings.HasPrefix(s, "{"):
				score += "0"
			case s == want[i]:
				score += "1"
			default:
				ok = false
			}
		}
		if ok && score > bestScore {
			best, bestScore = rt, score
		}
	}
	return best
}

// sameOperation reports whether the spec's route is the served route a
// request reached: the tenant is Osprey's only one, and both are one path
// shape. /executions/X/resume, Kestra's older resume, is not the spec's
// createExecution (/executions/{namespace}/{id}) although its path fits.
func sameOperation(route *routers.Route, params map[string]string, served string) bool {
	if t, ok := params["tenant"]; ok && t != "main" {
		return false
	}
	rel, _ := apiPath(route.Path)
	_, servedPath, _ := strings.Cut(served, " ")
	return shape(rel) == shape(servedPath)
}

// specOperations maps every "METHOD shape" of the spec (relative to the
// API prefix) to its operation.
func specOperations(doc *openapi3.T) map[string]*openapi3.Operation {
	ops := map[string]*openapi3.Operation{}
	for p, item := range doc.Paths.Map() {
		rel, _ := apiPath(p)
		for method, op := range item.Operations() {
			ops[method+" "+shape(rel)] = op
		}
	}
	return ops
}

// fullServer mounts every route a server can answer: triggers and
// secrets included.
func fullServer() *Server {
	s := New(Options{Triggers: &Triggers{}})
	s.MountSecrets(nil)
	return s
}

// servedOperations lists the spec's operations s answers, by operation id,
// and the served routes that are no operation of the spec.
func servedOperations(doc *openapi3.T, s *Server) (ops map[string]string, own []string) {
	spec := specOperations(doc)
	ops = map[string]string{}
	for _, rt := range s.servedRoutes() {
		method, path, _ := strings.Cut(rt, " ")
		if op := spec[method+" "+shape(path)]; op != nil {
			ops[op.OperationID] = rt
			continue
		}
		own = append(own, rt)
	}
	return ops, own
}

// checkCoverage fails when a route the server answers that is an
// operation of the spec saw no validated exchange in the whole run.
func checkCoverage() error {
	if contract.doc == nil {
		return nil // the spec was not loaded: nothing was checked
	}
	routes := map[string]bool{}
	exchanges.mu.Lock()
	servers := append([]*Server{fullServer()}, exchanges.servers...)
	validated := exchanges.validated
	exchanges.mu.Unlock()
	for _, s := range servers {
		ops, _ := servedOperations(contract.doc, s)
		for op, rt := range ops {
			routes[op+" "+rt] = true
		}
	}
	var missing []string
	for k := range routes {
		op, rt, _ := strings.Cut(k, " ")
		if validated[rt] == 0 {
			missing = append(missing, fmt.Sprintf("  %s (%s)", rt, op))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	return fmt.Errorf("contract: %d served operations of Kestra's spec saw no exchange validated against it; "+
		"add a test that calls each through Contract:\n%s", len(missing), strings.Join(missing, "\n"))
}

// TestMain runs the package's tests and then, on a run of the whole
// package (no -run or -skip), checks that every served operation of the
// spec was exercised and validated.
func TestMain(m *testing.M) {
	code := m.Run()
	whole := flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == ""
	if code == 0 && whole {
		if err := checkCoverage(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// relaxOperations undoes the generator's artifacts in operations, where
// Kestra's server is looser than the spec it publishes:
//   - a multipart body of inputs comes out as an array of binary strings,
//     which is no shape a form has: it is an object of named parts;
//   - the `filters` query parameter of the searches comes out required,
//     where Kestra's controllers take it as @Nullable (no filter: all).
func relaxOperations(doc *openapi3.T, seen map[*openapi3.Schema]bool) {
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			// Schemas written inline have the Java artifacts too.
			for _, resp := range op.Responses.Map() {
				if resp.Value != nil {
					for _, mt := range resp.Value.Content {
						relaxJavaArtifacts(mt.Schema, seen)
					}
				}
			}
			for _, p := range op.Parameters {
				if p.Value != nil && p.Value.In == "query" && p.Value.Name == "filters" {
					p.Value.Required = false
				}
			}
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			mt := op.RequestBody.Value.Content.Get("multipart/form-data")
			if mt != nil && mt.Schema != nil && mt.Schema.Value != nil && mt.Schema.Value.Type.Is("array") {
				mt.Schema = openapi3.NewObjectSchema().WithAnyAdditionalProperties().NewRef()
			}
		}
	}
}

// relaxJavaArtifacts undoes things Kestra's spec generator writes that
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
