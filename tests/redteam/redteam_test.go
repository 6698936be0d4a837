package redteam

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/taskproc"
)

// encryptionKey seals secret-bearing inputs (kestra.encryption.secret-key).
const encryptionKey = "Rt-Enc-Kq7Vx9Lp4Zw0Nb3Hs6Jd2Mf8Tc5Yg"

// outcome is what one attack got out.
type outcome struct {
	attack attack
	execID string
	state  string
	err    string
	text   string // every surface of this execution, concatenated
	found  string // "" or the secret and form found
}

// TestRedTeam runs every attack concurrently on one server with the env
// secret backend, then scans each execution's surfaces and the whole
// server (responses, SSE, database and WAL, its own output).
func TestRedTeam(t *testing.T) {
	t.Parallel()
	needShellTools(t)
	// The server holds what a task must never get: secrets in its
	// environment (SECRET_*), KESTRA_* settings that are credentials, the
	// Workload Identity variables and token file, a configuration file
	// with the password, a key file in its data directory.
	dir := t.TempDir()
	token := filepath.Join(dir, "azure", "tokens", "azure-identity-token")
	require.NoError(t, os.MkdirAll(filepath.Dir(token), 0o700))
	require.NoError(t, os.WriteFile(token, []byte(tokenValue), 0o600))
	cfg := filepath.Join(dir, "application.yml")
	require.NoError(t, os.WriteFile(cfg, []byte("kestra:\n  server:\n    basic-auth:\n      username: admin@redteam.io\n      password: "+authPassword+"\n"), 0o600))
	s := startServer(t, append(secretEnv(), "KESTRA_SECRET_TYPE=env", "KESTRA_ENCRYPTION_SECRET_KEY="+encryptionKey,
		"OSPREY_CONFIG_FILES="+cfg, "KESTRA_SERVER_BASIC_AUTH_USERNAME=admin@redteam.io", "KESTRA_SERVER_BASIC_AUTH_PASSWORD="+authPassword,
		// Kestra < 0.23's prefix: envs then sits next to the server's own settings
		"KESTRA_VARIABLES_ENV_VARS_PREFIX=KESTRA_", "KESTRA_REGION=westeurope-rt",
		"AZURE_CLIENT_ID="+kvClientID, "AZURE_TENANT_ID=11111111-1111-1111-1111-111111111111", "AZURE_FEDERATED_TOKEN_FILE="+token,
	), "--worker-thread", "16")
	s.user, s.pass = "admin@redteam.io", authPassword
	require.NoError(t, os.WriteFile(filepath.Join(s.dataDir, "secrets.key"), []byte(keyFileValue), 0o600))
	paths := strings.NewReplacer("@DATA@", s.dataDir, "@CONFIG@", cfg, "@TOKEN@", token)
	var all []attack
	for _, a := range attacks() {
		a.tasks = paths.Replace(a.tasks)
		all = append(all, a)
	}
	require.GreaterOrEqual(t, len(all), 60, "the suite holds at least 60 attacks")
	if abi, err := taskproc.ABI(); abi < 1 {
		// taskproc's rule: where the kernel cannot confine, the file
		// reads succeed (docs/task-isolation.md says so at start-up);
		// outside CI they are skipped with the reason, under CI it fails.
		if os.Getenv("CI") == "true" {
			t.Fatalf("this kernel cannot confine task processes (%v): the file-read attempts need Landlock", err)
		}
		all = slices.DeleteFunc(all, func(a attack) bool { return a.confined })
		t.Run("file reads", func(t *testing.T) {
			t.Skipf("this kernel cannot confine task processes: %v; the data-directory, configuration and token-file attempts are not run", err)
		})
	}
	outs := runAttacks(t, s, all)
	report(t, outs)
	for _, o := range outs {
		a := o.attack
		if a.residual != "" {
			require.Contains(t, o.text, a.proof, "%s (%s / %s) is listed as a residual risk (%s): the unmasked form is expected, and the table says so", a.id, a.channel, a.how, a.residual)
			continue
		}
		require.Empty(t, o.found, "%s: %s through %s leaked", a.id, a.how, a.channel)
		if a.live != "" {
			require.Contains(t, o.text, a.live, "%s (%s / %s) ran: its output shows %q", a.id, a.channel, a.how, a.live)
		}
	}
	scanServer(t, s)
	scanServerValues(t, s)
}

// scanServerValues looks for the server's own values in every API
// response and the server's output (its data directory holds the
// database and the key file, and is the server's to read).
func scanServerValues(t *testing.T, s *server) {
	t.Helper()
	s.mu.Lock()
	responses := strings.Join(s.responses, "\n")
	s.mu.Unlock()
	for where, text := range map[string]string{"API responses and SSE streams": responses, "server output": s.out.String()} {
		for _, name := range sortedKeys(serverValues) {
			form, ex := find(text, serverValues[name])
			require.Empty(t, form, "%s holds the %s as %s: …%s…", where, name, form, ex)
		}
	}
}

// needShellTools skips (fails under CI) where the tools the shell attacks
// run are missing.
func needShellTools(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the shell attacks use xxd, hexdump and GNU base64; they run on Linux")
	}
	for _, tool := range []string{"sh", "xxd", "hexdump", "base64", "rev", "tr", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("the shell attacks need %s: install it (Debian: xxd, bsdextrautils, coreutils)", tool)
			}
			t.Skipf("the shell attacks need %s, which this machine lacks (install xxd, bsdextrautils, coreutils)", tool)
		}
	}
}

// runAttacks creates every flow, runs the attacks at once and collects
// what each one's execution shows.
func runAttacks(t *testing.T, s *server, all []attack) []outcome {
	t.Helper()
	for _, a := range all {
		fs := a.flows()
		for i := len(fs) - 1; i >= 0; i-- { // listeners and subflows first
			s.createFlow(fs[i])
		}
	}
	outs := make([]outcome, len(all))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i, a := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			outs[i] = outcome{attack: a}
			code, body := s.do("POST", "/api/v1/main/executions/redteam/"+a.id+"?wait=true", "", "")
			if code != http.StatusOK {
				outs[i].err = fmt.Sprintf("start: %d %s", code, body)
				return
			}
			var ex map[string]any
			if err := json.Unmarshal([]byte(body), &ex); err != nil {
				outs[i].err = err.Error()
				return
			}
			outs[i].execID, _ = ex["id"].(string)
		}()
	}
	wg.Wait()
	for i := range outs {
		o := &outs[i]
		require.Empty(t, o.err, o.attack.id)
		o.text, o.state = surfaces(t, s, o.attack, o.execID)
		want := o.attack.want
		if want == "" {
			want = "SUCCESS"
		}
		require.Equal(t, want, o.state, "%s (%s / %s) ended %s; the attack must run as written:\n%s", o.attack.id, o.attack.channel, o.attack.how, o.state, o.text)
		for _, name := range sortedKeys(guarded) {
			if form, ex := find(o.text, guarded[name]); form != "" {
				o.found = fmt.Sprintf("%s as %s: …%s…", name, form, ex)
				break
			}
		}
		for _, name := range sortedKeys(serverValues) {
			if form, ex := find(o.text, serverValues[name]); o.attack.isolation && o.found == "" && form != "" {
				o.found = fmt.Sprintf("the %s as %s: …%s…", name, form, ex)
			}
		}
	}
	return outs
}

// surfaces returns everything the API shows of an attack: its execution,
// logs and SSE streams, those of the executions it fed, the KV entry it
// tried to write.
func surfaces(t *testing.T, s *server, a attack, execID string) (text, state string) {
	t.Helper()
	var b strings.Builder
	ex := s.execution(execID)
	state = stateOf(ex)
	for _, id := range []string{execID} {
		_, body := s.do("GET", "/api/v1/main/executions/"+id, "", "")
		b.WriteString(body)
		_, body = s.do("GET", "/api/v1/main/logs/"+id, "", "")
		b.WriteString(body)
		b.WriteString(s.sse("/api/v1/main/executions/" + id + "/follow"))
		b.WriteString(s.sse("/api/v1/main/logs/" + id + "/follow"))
	}
	for _, sink := range a.sinks {
		for _, child := range s.executionsOf("redteam.sink", sink, 1) {
			id, _ := child["id"].(string)
			require.Equal(t, "SUCCESS", stateOf(child), "%s: %s", sink, mustJSON(child))
			_, body := s.do("GET", "/api/v1/main/executions/"+id, "", "")
			b.WriteString(body)
			_, body = s.do("GET", "/api/v1/main/logs/"+id, "", "")
			b.WriteString(body)
		}
	}
	if a.kv != "" {
		code, body := s.do("GET", "/api/v1/main/namespaces/redteam/kv/"+a.kv, "", "")
		require.Equal(t, http.StatusNotFound, code, "%s: the KV guard refuses the value: %s", a.id, body)
		b.WriteString(body)
	}
	return b.String(), state
}

func stateOf(ex map[string]any) string { return state(ex) }

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// scanServer looks for the guarded secrets in every API response, the
// server's own output and every file of its data directory (the SQLite
// database, its WAL and shared memory).
func scanServer(t *testing.T, s *server) {
	t.Helper()
	s.mu.Lock()
	responses := strings.Join(s.responses, "\n")
	s.mu.Unlock()
	where := map[string]string{"API responses and SSE streams": responses, "server output": s.out.String()}
	for path, b := range s.files() {
		where[path] = string(b)
	}
	names := sortedKeys(where)
	require.True(t, slices.ContainsFunc(names, func(n string) bool { return strings.HasSuffix(n, ".db") }), "the database is scanned: %v", names)
	for _, n := range names {
		for _, sec := range sortedKeys(guarded) {
			form, ex := find(where[n], guarded[sec])
			require.Empty(t, form, "%s holds %s as %s: …%s…", n, sec, form, ex)
		}
	}
}

// report writes the result table docs/security.md shows, when
// REDTEAM_REPORT names a file.
func report(t *testing.T, outs []outcome) {
	path := os.Getenv("REDTEAM_REPORT")
	if path == "" {
		return
	}
	var b strings.Builder
	b.WriteString("| # | channel | transform | result |\n|---|---|---|---|\n")
	for _, o := range outs {
		res := "masked"
		switch {
		case o.attack.residual != "":
			res = "**residual**: " + o.attack.residual
		case o.attack.kv != "":
			res = "refused by the KV guard"
		case o.found != "":
			res = "LEAKED " + o.found
		case o.attack.result != "":
			res = o.attack.result
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", o.attack.id, o.attack.channel, strings.ReplaceAll(o.attack.how, "|", "\\|"), res)
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
}
