package secrets

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/ospreyhq/osprey/devkit/azurefake"
	"github.com/ospreyhq/osprey/mask"
	"github.com/ospreyhq/osprey/secrets/azurekv"
)

// The values the flows print. They hold characters that change under
// every encoding the leak scan looks for.
const (
	dbPassword = `Pa55-w0rd/with+chars&"quote"`
	apiJSON    = `{"user":"svc","token":"tok_9f8e7d6c5b"}`
)

// leakFlow prints the secret every way a flow author might, in a child
// namespace of where it was stored.
const leakFlow = `id: uses-db
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message:
      - "raw {{ secret('DB_PASSWORD') }}"
      - "upper {{ secret('DB_PASSWORD') | upper }}"
      - "lower {{ secret('DB_PASSWORD') | lower }}"
      - "trim {{ secret('DB_PASSWORD') | trim }}"
      - "b64 {{ secret('DB_PASSWORD') | base64encode }}"
      - "url {{ secret('DB_PASSWORD') | urlencode }}"
      - "json {{ secret('DB_PASSWORD') | json }}"
      - "explicit {{ secret('DB_PASSWORD', namespace='company') }}"
      - "subkey {{ secret('API_JSON', subkey='token') }}"
      - "whole {{ secret('API_JSON') }}"
  - id: out
    type: io.kestra.plugin.core.output.OutputValues
    values:
      pw: "{{ secret('DB_PASSWORD') }}"
      b64: "{{ secret('DB_PASSWORD') | base64encode }}"
      token: "{{ secret('API_JSON', subkey='token') }}"
outputs:
  - id: pw
    type: STRING
    value: "{{ outputs.out.values.pw }}"
`

// TestWorkloadIdentityEndToEnd is Done means 1 and 3: the guide's set-up,
// a secret written through the API into the vault, read by flows of a child
// namespace, masked everywhere, one token exchange and one vault read for
// many executions, and no value in any log line, API response, server log
// line or database row.
func TestWorkloadIdentityEndToEnd(t *testing.T) {
	p := newPod(t, podOptions{role: azurefake.RoleSecretsOfficer})
	p.start()

	p.putSecret("company", "DB_PASSWORD", dbPassword)
	p.putSecret("company", "API_JSON", apiJSON)

	// The secret is in the vault, under the documented name, with its tags.
	got, err := p.admin().GetSecret(t.Context(), azurekv.Name("", "company", "DB_PASSWORD"), "", nil)
	require.NoError(t, err)
	require.Equal(t, dbPassword, *got.Value)
	tags := map[string]string{}
	for k, v := range got.Tags {
		tags[k] = *v
	}
	require.Equal(t, map[string]string{"namespace": "company", "key": "DB_PASSWORD", "tenant": "main", "prefix": "",
		"managed-by": "osprey", "description": "e2e", "owner": "e2e"}, tags)

	p.createFlow(leakFlow)
	getsBefore := p.vault.Count("GetSecret")
	const runs = 10
	for i := range runs {
		exec, logs := p.execute("company.team", "uses-db")
		require.Equal(t, "SUCCESS", state(exec), "run %d: %v", i, exec)
		var lines []string
		for _, l := range logs {
			lines = append(lines, fmt.Sprint(l["message"]))
		}
		all := strings.Join(lines, "\n")
		for _, prefix := range []string{"raw ", "upper ", "lower ", "trim ", "b64 ", "url ", "explicit ", "subkey ", "whole "} {
			require.Contains(t, all, prefix+mask.Redacted, "log line %q is masked", prefix)
		}
		outs, _ := exec["outputs"].(map[string]any)
		require.Equal(t, mask.Redacted, outs["pw"], "flow output")
		tr := exec["taskRunList"].([]any)
		require.Contains(t, fmt.Sprint(tr), "pw:"+mask.Redacted, "task output")
	}
	require.Equal(t, 1, p.emu.CountBy("token", clientID), "one token exchange for the whole run")
	require.Equal(t, 2, p.vault.Count("GetSecret")-getsBefore, "one vault read per secret for %d warm executions", runs)

	// A Flow trigger passing a secret to its flow as an input: the input is
	// stored sealed and opened in the worker, where the task sees the value.
	p.createFlow(`id: gets-pw
namespace: company.team
inputs:
  - {id: pw, type: STRING}
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: ["length {{ inputs.pw | length }}", "raw {{ inputs.pw }}"]
triggers:
  - id: on-uses-db
    type: io.kestra.plugin.core.trigger.Flow
    inputs:
      pw: "{{ secret('DB_PASSWORD') }}"
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionFlow
        namespace: company.team
        flowId: uses-db
`)
	exec, _ := p.execute("company.team", "uses-db")
	require.Equal(t, "SUCCESS", state(exec))
	var listener map[string]any
	require.Eventually(t, func() bool {
		code, out := p.do("GET", "/api/v1/main/executions/search?namespace=company.team&flowId=gets-pw", "", "")
		var page struct{ Results []map[string]any }
		if code != http.StatusOK || json.Unmarshal([]byte(out), &page) != nil || len(page.Results) != 1 {
			return false
		}
		listener = page.Results[0]
		return state(listener) == "SUCCESS"
	}, 20*time.Second, 20*time.Millisecond, "the Flow trigger starts gets-pw, which succeeds")
	code, out := p.do("GET", "/api/v1/main/logs/"+listener["id"].(string), "", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, out, fmt.Sprintf("length %d", len(dbPassword)), "the task sees the opened value")
	require.Contains(t, out, "raw "+mask.Redacted, "and its logs mask it")

	// The API lists the secrets without values.
	code, out = p.do("GET", "/api/v1/main/secrets", "", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, out, `"key":"DB_PASSWORD"`)
	code, out = p.do("GET", "/api/v1/main/namespaces/company.team/inherited-secrets", "", "")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"company":["API_JSON","DB_PASSWORD"]}`, out)

	// A missing secret fails the task naming the key and every namespace.
	p.createFlow(`id: missing
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ secret('NOPE') }}"
`)
	exec, logs := p.execute("company.team", "missing")
	require.Equal(t, "FAILED", state(exec))
	require.Contains(t, fmt.Sprint(logs), "secret 'NOPE' not found in namespace company.team or its parents (company, the global namespace)")

	p.stop()
	scanForLeaks(t, p, []string{dbPassword, apiJSON, "tok_9f8e7d6c5b"})
}

// scanForLeaks looks for every value, in every encoding mask knows, in
// the API responses, the server's output and every database row and file.
func scanForLeaks(t *testing.T, p *pod, values []string) {
	t.Helper()
	var forms []string
	for _, v := range values {
		for _, f := range mask.Forms(v) {
			if len(f) >= 6 {
				forms = append(forms, f)
			}
		}
	}
	haystacks := map[string][]byte{"server stderr": []byte(p.stderr.String()), "server stdout": []byte(p.stdout.String())}
	p.mu.Lock()
	for i, r := range p.responses {
		haystacks[fmt.Sprintf("API response %d", i)] = []byte(r)
	}
	p.mu.Unlock()
	require.NotEmpty(t, p.stderr.String(), "the server logged")

	dataDir := filepath.Join(p.dir, "data")
	// Every file under the data directory, internal storage's included.
	err := filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dataDir, path)
		haystacks["file "+rel] = raw
		return nil
	})
	require.NoError(t, err)
	db, err := sql.Open("sqlite", filepath.Join(dataDir, "osprey.db")+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	tables := rowsOf(t, db, "SELECT name FROM sqlite_master WHERE type='table'")
	require.NotEmpty(t, tables)
	for _, tbl := range tables {
		for i, row := range rowsOf(t, db, "SELECT * FROM "+tbl) {
			haystacks[fmt.Sprintf("row %d of %s", i, tbl)] = []byte(row)
		}
	}
	t.Logf("leak scan: %d haystacks, %d forms", len(haystacks), len(forms))
	for where, h := range haystacks {
		for _, f := range forms {
			require.False(t, bytes.Contains(h, []byte(f)), "%s holds a secret form %q", where, f)
		}
	}
}

// rowsOf returns each row of a query as one string of its cells.
func rowsOf(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), q)
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		cells := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range cells {
			ptrs[i] = &cells[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		var b strings.Builder
		for _, c := range cells {
			switch x := c.(type) {
			case []byte:
				b.Write(x)
			default:
				fmt.Fprint(&b, x)
			}
			b.WriteByte(0)
		}
		out = append(out, b.String())
	}
	require.NoError(t, rows.Err())
	return out
}
