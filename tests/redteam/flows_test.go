package redteam

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// The secrets every attack aims at. Each is long enough to be masked, and
// chosen so that no piece of it appears anywhere by chance.
const (
	secretPW  = "Pa55w0rd-Zeta&9!xq"
	secretPEM = "-----BEGIN PRIVATE KEY-----\n" +
		"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDx4kX9pQ2mZ7Rd\n" +
		"Lq8sTn3vWy5RbJ0cHdK1fGaE6uM4oP2iYtV9wXzB7lNcS3hQjDr8kFmA5eUgOyTw\n" +
		"q2Zr7Lm9Xc4Vb8Nn1Kp6Jd3Hs5Gf0Ta9Ye2Wu7Ri4Eo8Qw1Pl3Ok6Ij9Uh2Yg\n" +
		"-----END PRIVATE KEY-----"
	secretJS = `{"db":{"user":"u5er-Q9k2w","password":"j50n-s3cret-pw"},"pin":9182736450,"token":"tok-A1b2C3d4"}`
	// secretRes is the target of the attacks docs/security.md lists as
	// residual risks; it is kept out of the global scan, which those
	// attacks are expected to defeat.
	secretRes   = "Resid-Val-77x"
	secretShort = "q7z"
)

// guarded are the secrets the whole output surface is scanned for.
var guarded = map[string]string{"PW": secretPW, "PEM": secretPEM, "JS": secretJS}

// The server's own values that are not secrets of the secret backend: a
// task process must not get them either.
const (
	authPassword = "Adm1n-Basic-Auth-Kp7w"  // KESTRA_SERVER_BASIC_AUTH_PASSWORD, and the config file's
	tokenValue   = "fedtok-Hq3Zp9Wm-Lx82Vt" // the federated token file's content
	keyFileValue = "keyfile-Rb6Nc1Yd-Mu40"  // secrets.key in the data directory
	// dbMarker starts every SQLite database file.
	dbMarker = "SQLite format 3"
)

// serverValues are what the isolation attempts are also scanned for.
var serverValues = map[string]string{
	"basic-auth password": authPassword, "encryption key": encryptionKey, "federated token": tokenValue,
	"secrets.key": keyFileValue, "database": dbMarker,
}

// secretEnv is the env backend's view of the secrets (base64, Kestra's).
func secretEnv() []string {
	var out []string
	for k, v := range map[string]string{"PW": secretPW, "PEM": secretPEM, "JS": secretJS, "RES": secretRes, "SHORT": secretShort} {
		out = append(out, "SECRET_"+k+"="+base64.StdEncoding.EncodeToString([]byte(v)))
	}
	return out
}

// attack is one exfiltration attempt: a flow (and the flows it feeds).
type attack struct {
	id      string
	channel string // where the value is sent
	how     string // what is done to it
	tasks   string // the flow's tasks (YAML, indented two spaces)
	extra   string // the flow's other top-level keys
	sinks   []string
	want    string // the execution's expected end state
	kv      string // a KV key the flow tries to write
	// residual, when set, is why this attempt is expected to succeed
	// (docs/security.md), and proof is what must then be found.
	residual, proof string
	// isolation marks the attempts on the server itself (its environment,
	// files, token): they are also scanned for serverValues. confined
	// marks those that only Landlock stops (file reads); live is what the
	// output must show to prove the attempt ran (the channel answered);
	// result is the table's wording.
	isolation, confined bool
	live, result        string
}

// block renders an expression as a YAML literal block at indent.
func block(indent int, s string) string {
	pad := strings.Repeat(" ", indent)
	return "|-\n" + pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}

func logTask(expr string) string {
	return "  - id: leak\n    type: io.kestra.plugin.core.log.Log\n    message: " + block(6, expr) + "\n"
}

func returnTask(expr string) string {
	return "  - id: leak\n    type: io.kestra.plugin.core.debug.Return\n    format: " + block(6, expr) + "\n"
}

func shellTask(env, script string) string {
	return "  - id: leak\n    type: io.kestra.plugin.scripts.shell.Commands\n    env:\n      S: \"{{ secret('" + env + "') }}\"\n    commands:\n      - " + block(8, script) + "\n"
}

// expressions are the expression engine's transforms, each on one of the
// secrets.
var expressions = []struct{ how, expr string }{
	{"raw", "{{ secret('PW') }}"},
	{"upper", "{{ secret('PW') | upper }}"},
	{"lower", "{{ secret('PW') | lower }}"},
	{"title", "{{ secret('PW') | title }}"},
	{"capitalize", "{{ secret('PW') | capitalize }}"},
	{"trim", "{{ ('  ' ~ secret('PW') ~ '  ') | trim }}"},
	{"base64 at offset 0", "{{ secret('PW') | base64encode }}"},
	{"base64 at offset 1", "{{ ('x' ~ secret('PW')) | base64encode }}"},
	{"base64 at offset 2", "{{ ('xy' ~ secret('PW') ~ 'tail') | base64encode }}"},
	{"upper | base64 at offset 1", "{{ ('x' ~ (secret('PW') | upper)) | base64encode }}"},
	{"double base64 at offsets", "{{ ('ab' ~ (('c' ~ secret('PW')) | base64encode)) | base64encode }}"},
	{"base64 | urlencode", "{{ ('c' ~ secret('PW')) | base64encode | urlencode }}"},
	{"urlencode", "{{ secret('PW') | urlencode }}"},
	{"json", "{{ {'v': secret('PW')} | json }}"},
	{"yaml", "{{ {'v': secret('PW')} | yaml }}"},
	{"reverse", "{{ secret('PW') | reverse }}"},
	{"escapeChar", "{{ secret('PW') | escapeChar('single') }}"},
	{"list", "{{ [secret('PW'), 'a'] }}"},
	{"PEM indent(4)", "key:\n{{ secret('PEM') | indent(4) }}"},
	{"PEM nindent(2)", "key:{{ secret('PEM') | nindent(2) }}"},
	{"PEM split by line", "{{ secret('PEM') | split('\n') }}"},
	{"PEM line base64 at offset 2", "{{ ('zz' ~ (secret('PEM') | split('\n'))[1]) | base64encode }}"},
	{"JSON jq string leaf", "{{ secret('JS') | jq('.db.password') | first }}"},
	{"JSON jq number leaf", "{{ secret('JS') | jq('.pin') | first }}"},
	{"JSON jq object", "{{ secret('JS') | jq('.db') | first | json }}"},
	{"JSON subkey", "{{ secret('JS', subkey='token') }}"},
	{"JSON subkey | upper | base64 at offset 1", "{{ ('q' ~ (secret('JS', subkey='token') | upper)) | base64encode }}"},
	{"JSON jq leaf | base64 at offset 2", "{{ ('qq' ~ (secret('JS') | jq('.db.password') | first)) | base64encode }}"},
}

// shells are a shell's transforms, $S holding the secret named.
var shells = []struct{ how, env, script string }{
	{"echo", "PW", `echo "v=$S"`},
	{"base64", "PW", `printf '%s' "$S" | base64`},
	{"base64 at offset 1", "PW", `printf 'x%s' "$S" | base64 -w0`},
	{"URL-safe base64 at offset 2", "PW", `printf 'xy%s' "$S" | base64 -w0 | tr '+/' '-_'`},
	{"double base64", "PW", `printf '%s' "$S" | base64 -w0 | base64 -w0`},
	{"xxd -p", "PW", `printf '%s' "$S" | xxd -p`},
	{"xxd -u -p", "PW", `printf '%s' "$S" | xxd -u -p`},
	{"xxd", "PW", `printf 'id=%s' "$S" | xxd`},
	{"hexdump -C", "PW", `printf 'id=%s\n' "$S" | hexdump -C`},
	{"upper | xxd -p", "PW", `printf '%s' "$S" | tr a-z A-Z | xxd -p`},
	{"upper | base64", "PW", `printf '%s' "$S" | tr a-z A-Z | base64`},
	{"rev", "PW", `printf '%s' "$S" | rev`},
	{"PEM line by line", "PEM", `printf '%s\n' "$S"`},
	{"PEM base64 wrapped at 76", "PEM", `printf '%s' "$S" | base64`},
	{"PEM xxd -p wrapped at 60", "PEM", `printf '%s' "$S" | xxd -p`},
	{"PEM hexdump -C", "PEM", `printf '%s' "$S" | hexdump -C`},
	{"JSON hexdump -C", "JS", `printf '%s' "$S" | hexdump -C`},
	{"Kestra outputs line", "PW", `echo '::{"outputs":{"v":"'"$S"'"}}::'`},
}

func rot13(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return 'a' + (r-'a'+13)%26
		case r >= 'A' && r <= 'Z':
			return 'A' + (r-'A'+13)%26
		}
		return r
	}, s)
}

// attacks builds every attempt.
func attacks() []attack {
	var out []attack
	n := 0
	next := func() string { n++; return fmt.Sprintf("rt%03d", n) }
	for _, e := range expressions {
		out = append(out, attack{id: next(), channel: "log", how: e.how, tasks: logTask(e.expr)})
	}
	for _, i := range []int{0, 7, 9, 10, 20, 22, 23, 24, 25, 13, 14} {
		e := expressions[i]
		out = append(out, attack{id: next(), channel: "task output", how: e.how, tasks: returnTask(e.expr)})
	}
	for _, i := range []int{0, 7, 22, 18} {
		e := expressions[i]
		out = append(out, attack{id: next(), channel: "label", how: e.how, tasks: "  - id: leak\n    type: io.kestra.plugin.core.execution.Labels\n    labels:\n      leak: " + block(8, e.expr) + "\n"})
	}
	for _, c := range []struct {
		i   int
		typ string
	}{{0, "STRING"}, {8, "STRING"}, {21, "STRING"}, {23, "INT"}, {24, "JSON"}} {
		e := expressions[c.i]
		id := next()
		out = append(out, attack{id: id, channel: "flow output (" + c.typ + ")", how: e.how, tasks: logTask("hello"),
			extra: "outputs:\n  - id: o\n    type: " + c.typ + "\n    value: " + block(6, e.expr) + "\n"})
	}
	for _, i := range []int{0, 7, 10, 22} {
		e := expressions[i]
		id := next()
		out = append(out, attack{id: id, channel: "KV value", how: e.how, want: "FAILED", kv: "k_" + id,
			tasks: "  - id: leak\n    type: io.kestra.plugin.core.kv.Set\n    key: k_" + id + "\n    value: " + block(6, e.expr) + "\n"})
	}
	for _, i := range []int{0, 7, 20} {
		e := expressions[i]
		out = append(out, attack{id: next(), channel: "Fail message", how: e.how, want: "FAILED",
			tasks: "  - id: leak\n    type: io.kestra.plugin.core.execution.Fail\n    errorMessage: " + block(6, e.expr) + "\n"})
	}
	out = append(out, attack{id: next(), channel: "error message", how: "number() of the value", want: "FAILED",
		tasks: logTask("{{ secret('PW') | number }}")})
	out = append(out, attack{id: next(), channel: "error message", how: "jq on the value as JSON", want: "FAILED",
		tasks: logTask("{{ ('{\"a\": ' ~ secret('PW') ~ '}') | jq('.a') }}")})
	for _, i := range []int{0, 7, 8} {
		e := expressions[i]
		id := next()
		out = append(out, attack{id: id, channel: "subflow input", how: e.how, sinks: []string{"sink_" + id},
			tasks: "  - id: leak\n    type: io.kestra.plugin.core.flow.Subflow\n    namespace: redteam.sink\n    flowId: sink_" + id + "\n    wait: true\n    inputs:\n      x: " + block(8, e.expr) + "\n"})
	}
	for _, i := range []int{0, 7, 9} {
		e := expressions[i]
		id := next()
		out = append(out, attack{id: id, channel: "Flow-trigger input", how: e.how, sinks: []string{"listen_" + id},
			tasks: logTask("hello"), extra: "#trigger: " + e.expr})
	}
	for _, s := range shells {
		out = append(out, attack{id: next(), channel: "shell", how: s.how, tasks: shellTask(s.env, s.script)})
	}
	sum := sha256.Sum256([]byte(secretRes))
	rev3 := reverse(base64.StdEncoding.EncodeToString([]byte(reverse(secretRes))))
	for _, r := range []attack{
		{channel: "log", how: "sha256", tasks: logTask("{{ secret('RES') | sha256 }}"),
			residual: "a one-way hash cannot be recognised; it reveals the value only to a guess", proof: hex.EncodeToString(sum[:])},
		{channel: "log", how: "replace", tasks: logTask("{{ secret('RES') | replace({'-': '+'}) }}"),
			residual: "an arbitrary substitution makes a new text", proof: strings.ReplaceAll(secretRes, "-", "+")},
		{channel: "log", how: "slice (a piece)", tasks: logTask("piece={{ secret('RES') | slice(0, 5) }}"),
			residual: "a piece shorter than the value is not the value; masking every piece would mask ordinary words", proof: "piece=" + secretRes[:5]},
		{channel: "log", how: "three transforms deep", tasks: logTask("{{ secret('RES') | reverse | base64encode | reverse }}"),
			residual: "forms are learnt two transforms deep", proof: rev3},
		{channel: "log", how: "short value", tasks: logTask("value={{ secret('SHORT') }}"),
			residual: "values shorter than 4 characters are not masked", proof: "value=" + secretShort},
		{channel: "shell", how: "one character at a time", tasks: shellTask("RES", `printf '%s' "$S" | sed 's/./& /g'`),
			residual: "a value split into characters is a list of characters", proof: "R e s i d - V a l"},
		{channel: "shell", how: "rot13", tasks: shellTask("RES", `printf '%s' "$S" | tr 'A-Za-z' 'N-ZA-Mn-za-m'`),
			residual: "a cipher of the author's choice makes a new text", proof: rot13(secretRes)},
	} {
		r.id = next()
		out = append(out, r)
	}
	for _, a := range isolationAttacks() {
		a.id, a.isolation = next(), true
		out = append(out, a)
	}
	return out
}

// plainShell is a shell task that declares no variable.
func plainShell(script string) string {
	return "  - id: leak\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands:\n      - " + block(8, script) + "\n"
}

// isolationAttacks try the server itself from a task: its environment,
// its data directory, configuration and token files, and `envs`. The
// paths are placeholders the test replaces with the server's: @DATA@,
// @CONFIG@, @TOKEN@.
func isolationAttacks() []attack {
	const env, files, envs = "task environment", "server files", "envs"
	const clean, refused = "nothing of the server's: the allow-list only", "refused (Landlock); nothing of the server's"
	const proc = "nothing of the server's: /proc's process directories are refused, the worker is not dumpable"
	return []attack{
		{channel: env, how: "env", tasks: plainShell("env"), live: "WORKING_DIR=", result: clean},
		{channel: env, how: "printenv", tasks: plainShell("printenv"), live: "WORKING_DIR=", result: clean},
		{channel: env, how: "/proc/self/environ", tasks: plainShell(`cat /proc/self/environ 2>&1 | tr '\0' '\n'`), result: proc},
		{channel: env, how: "/proc/1/environ", tasks: plainShell(`cat /proc/1/environ 2>&1 | tr '\0' '\n'`), result: proc},
		{channel: env, how: "/proc/$PPID/environ (the helper)", tasks: plainShell(`cat /proc/$PPID/environ 2>&1 | tr '\0' '\n'`), result: proc},
		{channel: env, how: "/proc/<worker>/environ (the parent's parent)",
			tasks: plainShell(`cat /proc/$(cut -d' ' -f4 /proc/$PPID/stat)/environ 2>&1 | tr '\0' '\n'`), result: proc},
		{channel: env, how: "every /proc/*/environ, base64", tasks: plainShell(`for f in /proc/[0-9]*/environ; do base64 -w0 "$f" 2>&1 || true; echo; done`), result: proc},
		{channel: files, how: "the data directory, every file in base64", confined: true, live: "Permission denied", result: refused,
			tasks: plainShell(`ls -la @DATA@ 2>&1 || true; for f in @DATA@/* @DATA@/.[!.]*; do echo "== $f"; base64 -w0 "$f" 2>&1 || true; echo; done`)},
		{channel: files, how: "the SQLite database", confined: true, live: "Permission denied", result: refused,
			tasks: plainShell(`head -c 64 @DATA@/osprey.db 2>&1 || true; xxd -p -l 64 @DATA@/osprey.db 2>&1 || true`)},
		{channel: files, how: "secrets.key", confined: true, live: "Permission denied", result: refused,
			tasks: plainShell(`cat @DATA@/secrets.key 2>&1 || true; xxd -p @DATA@/secrets.key 2>&1 || true`)},
		{channel: files, how: "the configuration file", confined: true, live: "Permission denied", result: refused,
			tasks: plainShell(`cat @CONFIG@ 2>&1 || true`)},
		{channel: files, how: "the federated token file", confined: true, live: "Permission denied", result: refused,
			tasks: plainShell(`cat @TOKEN@ 2>&1 || true; base64 -w0 @TOKEN@ 2>&1 || true`)},
		{channel: files, how: "the token's directory", confined: true, live: "Permission denied", result: refused,
			tasks: plainShell(`ls -la $(dirname @TOKEN@) 2>&1 || true; cat $(dirname @TOKEN@)/* 2>&1 || true`)},
		{channel: envs, how: "{{ envs }}", tasks: logTask("{{ envs }}"), live: "westeurope-rt", result: "only the prefixed variables"},
		{channel: envs, how: "printContext()", tasks: logTask("{{ printContext() }}"), live: "westeurope-rt", result: "only the prefixed variables"},
		{channel: envs, how: "{{ envs.secret_pw }}", tasks: logTask("v={{ envs.secret_pw ?? 'none' }}"), live: "v=none", result: "undefined"},
		{channel: envs, how: "{{ envs.server_basic_auth_password }}", tasks: logTask("v={{ envs.server_basic_auth_password ?? 'none' }}"), live: "v=none", result: "undefined"},
		{channel: envs, how: "{{ envs.encryption_secret_key }}", tasks: logTask("v={{ envs.encryption_secret_key ?? 'none' }}"), live: "v=none", result: "undefined"},
		{channel: envs, how: "{{ envs.configuration }}", tasks: logTask("v={{ envs.configuration ?? 'none' }}"), live: "v=none", result: "undefined"},
	}
}

// flows returns the YAML of an attack's flow and of the flows it feeds.
func (a attack) flows() []string {
	var extra string
	var trigger string
	if strings.HasPrefix(a.extra, "#trigger: ") {
		trigger = strings.TrimPrefix(a.extra, "#trigger: ")
	} else {
		extra = a.extra
	}
	out := []string{"id: " + a.id + "\nnamespace: redteam\ntasks:\n" + a.tasks + extra}
	for _, s := range a.sinks {
		src := "id: " + s + "\nnamespace: redteam.sink\ninputs:\n  - id: x\n    type: STRING\ntasks:\n" +
			"  - id: got\n    type: io.kestra.plugin.core.log.Log\n    message: \"got {{ inputs.x }}\"\n" +
			"  - id: ret\n    type: io.kestra.plugin.core.debug.Return\n    format: \"{{ inputs.x }}\"\n" +
			"outputs:\n  - id: echoed\n    type: STRING\n    value: \"{{ inputs.x }}\"\n"
		if trigger != "" {
			src += "triggers:\n  - id: on\n    type: io.kestra.plugin.core.trigger.Flow\n    inputs:\n      x: " + block(8, trigger) +
				"\n    conditions:\n      - type: io.kestra.plugin.core.condition.ExecutionFlow\n        namespace: redteam\n        flowId: " + a.id + "\n"
		}
		out = append(out, src)
	}
	return out
}
