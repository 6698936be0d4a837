package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/testkit"
)

// typesFlow declares one input of every type Kestra has (FILE optional:
// uploads are tested in tests/e2e/files), each with a validator where the
// type has one.
const typesFlow = `
id: types
namespace: company.team
inputs:
  - {id: string, type: STRING, validator: '[a-z]+', minLength: 2}
  - {id: enum, type: ENUM, values: [A, B]}
  - {id: select, type: SELECT, values: [dev, prod]}
  - {id: multi, type: MULTISELECT, values: [x, y, z]}
  - {id: int, type: INT, min: 1, max: 10}
  - {id: float, type: FLOAT, max: 2}
  - {id: bool, type: BOOLEAN}
  - {id: datetime, type: DATETIME, after: "2020-01-01T00:00:00Z"}
  - {id: date, type: DATE, before: "2030-01-01"}
  - {id: time, type: TIME}
  - {id: duration, type: DURATION}
  - {id: json, type: JSON}
  - {id: yaml, type: YAML}
  - {id: uri, type: URI}
  - {id: email, type: EMAIL}
  - {id: list, type: ARRAY, itemType: INT}
  - {id: token, type: SECRET}
  - {id: greeting, type: STRING, defaults: hello}
  - {id: upload, type: FILE, required: false}
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.int }} {{ inputs.greeting }} {{ inputs.datetime }} {{ inputs.duration }}"
`

// TestInputsOfEveryTypeThroughTheAPI posts inputs of every type to `server
// local`, as a multipart form and as JSON, and finds them typed in the
// execution; bad values are refused with 422 naming the input.
func TestInputsOfEveryTypeThroughTheAPI(t *testing.T) {
	t.Parallel()
	port := testkit.Port(t)
	p := start(t, nil, "server", "local", "--data-dir", t.TempDir(), "--port", strconv.Itoa(port), "--management-port", "0")
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	a.waitUp(p)
	a.createFlow(typesFlow)

	form := map[string]string{
		"string": "abc", "enum": "B", "select": "prod", "multi": `["x","z"]`, "int": "7", "float": "1.5",
		"bool": "TRUE", "datetime": "2024-01-15T10:00:00.5+01:00", "date": "2024-02-29", "time": "10:15",
		"duration": "P1DT30M", "json": `{"a":[1,"b"]}`, "yaml": "k: v\nn: 2\n", "uri": "https://kestra.io/docs",
		"email": "ada@example.com", "list": "[1, 2, 3]", "token": "s3cr3t-value",
	}
	want := map[string]any{
		"string": "abc", "enum": "B", "select": "prod", "multi": []any{"x", "z"}, "int": 7.0, "float": 1.5,
		"bool": true, "datetime": "2024-01-15T09:00:00.500Z", "date": "2024-02-29", "time": "10:15:00",
		"duration": "PT24H30M", "json": map[string]any{"a": []any{1.0, "b"}}, "yaml": map[string]any{"k": "v", "n": 2.0},
		"uri": "https://kestra.io/docs", "email": "ada@example.com", "list": []any{1.0, 2.0, 3.0},
		"greeting": "hello", "upload": nil,
	}
	checkInputs := func(t *testing.T, code int, body []byte) {
		t.Helper()
		require.Equal(t, http.StatusOK, code, string(body))
		require.NotContains(t, string(body), "s3cr3t-value", "a SECRET input is sealed before it is stored")
		var ex map[string]any
		require.NoError(t, json.Unmarshal(body, &ex))
		require.Equal(t, "SUCCESS", state(ex), string(body))
		got := ex["inputs"].(map[string]any)
		require.NotEmpty(t, got["token"])
		delete(got, "token")
		require.Equal(t, want, got)
		// Tasks see the typed values: an INT renders as 7, not 7.0.
		var logs []map[string]any
		a.on(t).getJSON("/api/v1/main/logs/"+ex["id"].(string), &logs)
		require.Len(t, logs, 1)
		require.Equal(t, "7 hello 2024-01-15T09:00:00.500Z PT24H30M", logs[0]["message"])
	}

	t.Run("multipart", func(t *testing.T) {
		a := a.on(t)
		code, body := a.postForm("/api/v1/main/executions/company.team/types?wait=true", form)
		checkInputs(t, code, body)
	})

	t.Run("json", func(t *testing.T) {
		a := a.on(t)
		values := map[string]any{}
		for k, v := range form {
			values[k] = v
		}
		// JSON bodies may carry native values instead of text.
		values["int"], values["float"], values["bool"] = 7, 1.5, true
		values["multi"], values["list"] = []any{"x", "z"}, []any{1, 2, 3}
		values["json"] = map[string]any{"a": []any{1, "b"}}
		b, err := json.Marshal(values)
		require.NoError(t, err)
		code, body := a.do(http.MethodPost, "/api/v1/main/executions/company.team/types?wait=true", "application/json", bytes.NewReader(b))
		checkInputs(t, code, body)
	})

	bad := []struct {
		input, value, message string
	}{
		{"string", "ABC", "it must match the pattern `[a-z]+`"},
		{"string", "a", "it must have at least 2 characters"},
		{"enum", "C", "it must match the values `[A, B]`"},
		{"multi", `["w"]`, "it must match the values `[x, y, z]`"},
		{"int", "11", "it must be less than `10`"},
		{"int", "seven", "it must be an integer"},
		{"float", "2.5", "it must be less than `2`"},
		{"bool", "yes", "it must be a boolean"},
		{"datetime", "2019-12-31T23:59:59Z", "it must be after `2020-01-01T00:00:00Z`"},
		{"datetime", "yesterday", "ISO-8601 date-time"},
		{"date", "2031-01-01", "it must be before `2030-01-01`"},
		{"time", "25:00", "ISO-8601 time"},
		{"duration", "5 minutes", "ISO-8601 duration"},
		{"json", `{"a":`, "it must be valid JSON"},
		{"yaml", "a: [", "it must be valid YAML"},
		{"uri", "not a uri", "it must be a URI"},
		{"email", "nobody", "it must be a valid email address"},
		{"list", `[1, "x"]`, "unable to parse array element as `INT` on `x`"},
		{"upload", "kestra:///f.txt", "is not a file of namespace company.team"},
		{"upload", "/etc/passwd", "a FILE input takes an uploaded file"},
	}
	for _, tc := range bad {
		t.Run("refuses "+tc.input+" "+tc.value, func(t *testing.T) {
			a := a.on(t)
			values := map[string]string{}
			for k, v := range form {
				values[k] = v
			}
			values[tc.input] = tc.value
			code, body := a.postForm("/api/v1/main/executions/company.team/types", values)
			require.Equal(t, http.StatusUnprocessableEntity, code, string(body))
			var e struct {
				Message string `json:"message"`
				Details []struct {
					Path    string `json:"path"`
					Message string `json:"message"`
				} `json:"details"`
			}
			require.NoError(t, json.Unmarshal(body, &e))
			require.Len(t, e.Details, 1, string(body))
			require.Equal(t, "inputs."+tc.input, e.Details[0].Path)
			require.True(t, strings.HasPrefix(e.Details[0].Message, "Invalid input for `"+tc.input+"`"), e.Details[0].Message)
			require.Contains(t, e.Details[0].Message, tc.message)
			require.NotContains(t, string(body), "s3cr3t-value")
		})
	}

	t.Run("missing required input", func(t *testing.T) {
		a := a.on(t)
		values := map[string]string{}
		for k, v := range form {
			if k != "email" {
				values[k] = v
			}
		}
		code, body := a.postForm("/api/v1/main/executions/company.team/types", values)
		require.Equal(t, http.StatusUnprocessableEntity, code, string(body))
		require.Contains(t, string(body), `"path":"inputs.email"`)
		require.Contains(t, string(body), "missing required input")
	})
}

// on returns a client that reports to t, for use inside a subtest.
func (a api) on(t testing.TB) api {
	a.t = t
	return a
}

// postForm posts fields as multipart/form-data.
func (a api) postForm(path string, fields map[string]string) (int, []byte) {
	a.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(a.t, mw.WriteField(k, v))
	}
	require.NoError(a.t, mw.Close())
	return a.do(http.MethodPost, path, mw.FormDataContentType(), &buf)
}
