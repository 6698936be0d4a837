package browser

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

const embeddedConfig = "kestra:\n  secret:\n    type: embedded\n"

// invalidFlow misspells a Log property on line 9.
const invalidFlow = `id: greet
namespace: company.team
inputs:
  - id: name
    type: STRING
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    mesage: "Hello"
`

// greetFlow logs, pauses until the test resumes it, and logs again: the
// second line and the third task run arrive while the page is open, however
// slow the machine (a timed sleep would race the page on a loaded one).
const greetFlow = `id: greet
namespace: company.team
inputs:
  - id: name
    type: STRING
  - id: times
    type: INT
    defaults: 2
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "Hello, {{ inputs.name }}!"
  - id: pause
    type: io.kestra.plugin.core.flow.Pause
  - id: bye
    type: io.kestra.plugin.core.log.Log
    message: "Bye, {{ inputs.name }}, {{ inputs.times }} times"
`

const sleepyFlow = `id: sleepy
namespace: company.team
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT10M
`

const secretFlow = `id: tell
namespace: company.team
tasks:
  - id: tell
    type: io.kestra.plugin.core.log.Log
    message: "the token is {{ secret('API_TOKEN') }}"
`

const secretValue = "tok-9f8e7d6c5b4a-value"

var execURL = regexp.MustCompile(`/ui/main/executions/company\.team/([\w.-]+)/([\w-]+)`)

// TestEditExecuteWatch is a person's path: write a flow in the editor (an
// invalid one shows its error at its line), save it, execute it from the
// generated form, watch the logs arrive live and the Gantt grow; kill and
// restart an execution; write a secret, run a flow that logs it and see
// it masked; no response the browser received holds the value.
func TestEditExecuteWatch(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	o := startOsprey(t, embeddedConfig, nil)

	// The editor shows the server's validation at its line.
	b.run(chromedp.Navigate(o.base + "/ui/main/flows/create"))
	b.setEditor(invalidFlow)
	b.waitJS(`document.querySelector('[data-line]') !== null`)
	var line int
	b.run(chromedp.Evaluate(`(() => { const ls = [...document.querySelectorAll('.cm-content .cm-line')]; return ls.findIndex(l => l.querySelector('.cm-lintRange-error')) + 1; })()`, &line))
	require.Equal(t, 9, line, "the lint mark sits on the misspelled property's line")
	require.Contains(t, b.text(".problems-panel"), "Line 9, column 5")
	require.Contains(t, b.text(".problems-panel"), `unknown property "mesage"`)
	b.shot("editor-error")

	// Completion offers the Log task's properties from the flow schema.
	b.setEditor(strings.TrimSuffix(strings.Replace(invalidFlow, `    mesage: "Hello"`, "    mess", 1), "\n"))
	b.run(chromedp.KeyEvent("a"))
	b.waitJS(`[...document.querySelectorAll('.cm-tooltip-autocomplete li')].some(li => li.textContent.startsWith('message'))`)
	b.shot("editor-completion")

	// A valid flow saves and the page moves to the flow's URL.
	b.setEditor(greetFlow)
	b.waitJS(`document.querySelector('.problems-panel .ok') !== null`)
	b.run(chromedp.Click(`//button[starts-with(normalize-space(.), "Save")]`))
	b.waitJS(`location.pathname === '/ui/main/flows/edit/company.team/greet'`)
	b.waitJS(`document.querySelector('header .badge') && document.querySelector('header .badge').textContent === 'rev 1'`)
	b.shot("flow-editor")

	// Execute with inputs from the generated form.
	b.run(chromedp.Click(`//a[normalize-space(.)="Execute"]`))
	b.run(chromedp.WaitVisible(`#input-name`))
	var timesType string
	b.run(chromedp.AttributeValue(`#input-times`, "type", &timesType, nil))
	require.Equal(t, "number", timesType, "an INT input is a number field")
	b.run(chromedp.SendKeys(`#input-name`, "Osprey"), chromedp.SetValue(`#input-times`, "3"), chromedp.SetValue(`#input-labels`, "team:data"))
	b.shot("execute-form")
	b.run(chromedp.Click(`dialog button[type=submit]`))
	b.waitJS(`/^\/ui\/main\/executions\/company\.team\/greet\/[\w-]+$/.test(location.pathname)`)
	m := execURL.FindStringSubmatch(b.location())
	require.NotNil(t, m)
	greetID := m[2]

	// The Gantt while it runs: the first task done, the execution paused
	// at the second, no row yet for the third.
	b.waitJS(`document.querySelector('tr[data-task="pause"] [data-state="PAUSED"]') !== null`)
	b.waitJS(`document.querySelector('.live') !== null`)
	var rows int
	b.run(chromedp.Evaluate(`document.querySelectorAll('tr[data-task]').length`, &rows))
	require.Equal(t, 2, rows, "the Gantt shows the task runs so far")
	b.shot("execution-gantt-running")

	// Logs arrive live: the first line while the execution waits, then,
	// once it is resumed, the last one without a reload.
	b.run(chromedp.Click(`//a[@role="tab"][normalize-space(.)="Logs"]`))
	b.waitJS(`(document.querySelector('[data-testid=logs]')?.textContent || '').includes('Hello, Osprey!')`)
	var running bool
	b.run(chromedp.Evaluate(`!(document.querySelector('[data-testid=logs]')?.textContent || '').includes('Bye, Osprey')`, &running))
	require.True(t, running, "the first line shows before the last task ran")
	code, body := o.call(t, http.MethodPost, "/executions/"+greetID+"/resume", "", "")
	require.Less(t, code, 300, "resume: %d %s", code, body)
	b.waitJS(`(document.querySelector('[data-testid=logs]')?.textContent || '').includes('Bye, Osprey, 3 times')`)
	b.waitJS(`document.querySelector('header [data-state="SUCCESS"]') !== null`)
	b.shot("execution-logs")
	b.run(chromedp.Click(`//a[@role="tab"][normalize-space(.)="Gantt"]`))
	b.waitJS(`document.querySelectorAll('tr[data-task]').length === 3`)
	b.shot("execution-gantt")
	b.run(chromedp.Click(`//a[@role="tab"][normalize-space(.)="Outputs"]`), chromedp.WaitVisible(`table[aria-label=Outputs], p.muted`))
	b.shot("execution-outputs")

	// Kill and restart an execution.
	o.createFlow(t, sleepyFlow)
	code, body = o.call(t, http.MethodPost, "/executions/company.team/sleepy", "", "")
	require.Equal(t, http.StatusOK, code, body)
	sleepyID := regexp.MustCompile(`"id":"([\w-]+)"`).FindStringSubmatch(body)[1]
	b.run(chromedp.Navigate(o.base + "/ui/main/executions/company.team/sleepy/" + sleepyID))
	b.waitJS(`document.querySelector('tr[data-task="nap"] [data-state="RUNNING"]') !== null`)
	b.run(chromedp.Click(`//header//button[normalize-space(.)="Kill"]`))
	b.waitJS(`document.querySelector('header [data-state="KILLED"]') !== null`)
	b.shot("execution-killed")
	b.run(chromedp.Click(`//header//button[normalize-space(.)="Restart"]`))
	b.waitJS(`document.querySelector('tr[data-task="nap"] [data-state="RUNNING"]') !== null && document.querySelector('header [data-state="KILLED"]') === null`)
	b.run(chromedp.Click(`//header//button[normalize-space(.)="Kill"]`))
	b.waitJS(`document.querySelector('header [data-state="KILLED"]') !== null`)

	// The executions list finds them, filtered by state.
	b.run(chromedp.Navigate(o.base + "/ui/main/executions?state=KILLED"))
	b.waitJS(`document.querySelectorAll('table[aria-label=Executions] tbody tr a').length === 1`)
	b.shot("executions")
	b.run(chromedp.Navigate(o.base + "/ui/main/executions"))
	b.waitJS(`document.querySelectorAll('table[aria-label=Executions] tbody tr a').length === 2`)

	// A secret written in the UI is used by a flow and masked in its logs.
	b.run(chromedp.Navigate(o.base + "/ui/main/namespaces/edit/company.team/secrets"))
	b.run(chromedp.Click(`//button[normalize-space(.)="Add a secret"]`))
	b.run(chromedp.SendKeys(`#secret-key`, "API_TOKEN"), chromedp.SendKeys(`#secret-value`, secretValue),
		chromedp.SendKeys(`#secret-description`, "the partner API"), chromedp.SendKeys(`#secret-tags`, "team=data"))
	var valueType string
	b.run(chromedp.AttributeValue(`#secret-value`, "type", &valueType, nil))
	require.Equal(t, "password", valueType)
	b.shot("secret-form")
	b.run(chromedp.Click(`//button[normalize-space(.)="Save secret"]`))
	b.waitJS(`document.querySelector('tr[data-key=API_TOKEN]') !== null`)
	require.Contains(t, b.text(`tr[data-key=API_TOKEN]`), "the partner API")
	require.Contains(t, b.text(`[data-testid=backend]`), "embedded")
	b.shot("namespace-secrets")
	// Editing keeps the value unless a new one is typed; the description changes.
	b.run(chromedp.Click(`//button[@aria-label="Edit API_TOKEN"]`), chromedp.WaitVisible(`#secret-description`))
	var shown string
	b.run(chromedp.Value(`#secret-value`, &shown))
	require.Empty(t, shown, "the value field is write-only")
	b.run(chromedp.Clear(`#secret-description`), chromedp.SendKeys(`#secret-description`, "the partner API, rotated"), chromedp.Click(`//button[normalize-space(.)="Save secret"]`))
	b.waitJS(`(document.querySelector('tr[data-key=API_TOKEN]')?.textContent || '').includes('rotated')`)

	o.createFlow(t, secretFlow)
	b.run(chromedp.Navigate(o.base + "/ui/main/flows/edit/company.team/tell/execute"))
	b.run(chromedp.WaitVisible(`dialog button[type=submit]`), chromedp.Click(`dialog button[type=submit]`))
	b.waitJS(`/^\/ui\/main\/executions\/company\.team\/tell\/[\w-]+$/.test(location.pathname)`)
	b.run(chromedp.Click(`//a[@role="tab"][normalize-space(.)="Logs"]`))
	b.waitJS(`(document.querySelector('[data-testid=logs]')?.textContent || '').includes('the token is ******')`)
	b.shot("execution-secret-masked")

	// The other pages, for the record and the screenshots.
	for _, p := range []struct{ path, wait, name string }{
		{"/ui/main/flows", `document.querySelectorAll('table[aria-label=Flows] tbody tr').length === 3`, "flows"},
		{"/ui/main/namespaces", `document.querySelector('table[aria-label=Namespaces] a') !== null`, "namespaces"},
		{"/ui/main/dashboard", `document.querySelector('.hbars') !== null && (document.querySelector('.days')?.getAttribute('aria-label') || '').includes('3 executions, 0 failed')`, "dashboard"},
		{"/ui/main/namespaces/edit/company.team/kv", `document.querySelector('table[aria-label="KV entries"]') !== null`, "namespace-kv"},
		{"/ui/main/executions/company.team/greet/" + greetID + "/overview", `document.querySelector('.overview') !== null`, "execution-overview"},
	} {
		b.run(chromedp.Navigate(o.base + p.path))
		b.waitJS(p.wait)
		b.shot(p.name)
	}
	// Dark theme, keyboard-reachable toggle.
	b.run(chromedp.Navigate(o.base+"/ui/main/executions/company.team/greet/"+greetID+"/gantt"), chromedp.Click(`//button[contains(@aria-label, "theme")]`))
	b.waitJS(`document.documentElement.dataset.theme === 'dark'`)
	b.shot("execution-gantt-dark")
	b.run(chromedp.Navigate(o.base + "/ui/main/flows/edit/company.team/greet"))
	b.waitJS(`document.querySelector('.cm-content') !== null`)
	b.shot("flow-editor-dark")

	n := b.scan(secretValue, base64.StdEncoding.EncodeToString([]byte(secretValue)))
	require.Greater(t, n, 40, "the browser's responses were recorded")
	require.True(t, b.received("the token is ******"), "the masked log line was among the recorded bodies")
	require.True(t, b.received("Bye, Osprey, 3 times"), "the log streams' bodies were recorded")
	t.Logf("scanned %d responses: no secret value", n)
}

// TestLoginAndReadOnlySecrets: with basic auth on, the UI asks for
// credentials (a wrong password is refused), and a read-only secret
// backend shows the lock and no write control; a tablet-sized window
// still shows every control.
func TestLoginAndReadOnlySecrets(t *testing.T) {
	b := newBrowser(t, 1024, 768)
	cfg := "kestra:\n  server:\n    basic-auth:\n      username: admin\n      password: ui-pass-123\n  secret:\n    type: env\n"
	envValue := "env-secret-5c4b3a"
	o := startOsprey(t, cfg, []string{"SECRET_DB_PASSWORD=" + base64.StdEncoding.EncodeToString([]byte(envValue))})
	o.user, o.pass = "admin", "ui-pass-123"
	o.createFlow(t, secretFlow)

	b.run(chromedp.Navigate(o.base + "/ui/main/namespaces/edit/company.team/secrets"))
	b.run(chromedp.WaitVisible(`input[name=username]`))
	b.shot("login")
	b.run(chromedp.SendKeys(`input[name=username]`, "admin"), chromedp.SendKeys(`input[name=password]`, "wrong"), chromedp.Click(`.login button[type=submit]`))
	b.waitJS(`document.querySelector('.login [role=alert]') && document.querySelector('.login [role=alert]').textContent.includes('Wrong username or password')`)
	b.run(chromedp.SendKeys(`input[name=password]`, "ui-pass-123"), chromedp.Click(`.login button[type=submit]`))
	b.waitJS(`document.querySelector('[data-testid=readonly]') !== null`)
	require.Contains(t, b.text(`[data-testid=readonly]`), "read-only")
	require.Contains(t, b.text(`[data-testid=backend]`), "env")
	var writeControls int
	b.run(chromedp.Evaluate(`[...document.querySelectorAll('button')].filter(x => /Add a secret|Delete|Edit/.test(x.textContent)).length`, &writeControls))
	require.Zero(t, writeControls, "a read-only backend shows no write control")
	require.Contains(t, b.text(`table[aria-label="Inherited secrets"]`), "DB_PASSWORD")
	b.shot("namespace-secrets-readonly")

	// Tablet width: the flow list and its Execute button are on screen.
	b.run(chromedp.Navigate(o.base + "/ui/main/flows"))
	b.waitJS(`document.querySelector('table[aria-label=Flows] tbody a') !== null`)
	var fits bool
	b.run(chromedp.Evaluate(`(() => { const r = document.querySelector('table[aria-label=Flows] .button').getBoundingClientRect(); return r.right <= innerWidth && document.documentElement.scrollWidth <= innerWidth; })()`, &fits))
	require.True(t, fits, "the flows page fits a 1024px tablet")
	b.shot("flows-tablet")

	b.run(chromedp.Click(`//button[normalize-space(.)="Log out"]`))
	b.run(chromedp.WaitVisible(`input[name=username]`))
	b.run(chromedp.Navigate(o.base + "/ui/main/flows"))
	b.run(chromedp.WaitVisible(`input[name=username]`))

	n := b.scan(envValue, base64.StdEncoding.EncodeToString([]byte(envValue)), "ui-pass-123")
	t.Logf("scanned %d responses: no secret value", n)
}

// TestFlowTabs: a flow's topology shows nested tasks and its error
// branch, its revisions diff, and its triggers switch off and on.
func TestFlowTabs(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	o := startOsprey(t, embeddedConfig, nil)
	src := `id: nightly
namespace: company.team
tasks:
  - id: steps
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: extract
        type: io.kestra.plugin.core.log.Log
        message: extracting
errors:
  - id: alert
    type: io.kestra.plugin.core.log.Log
    message: failed
triggers:
  - id: every_night
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 2 * * *"
`
	o.createFlow(t, src)
	code, body := o.call(t, http.MethodPut, "/flows/company.team/nightly", "application/x-yaml", strings.Replace(src, "message: extracting", "message: extracting everything", 1))
	require.Equal(t, http.StatusOK, code, body)

	b.run(chromedp.Navigate(o.base + "/ui/main/flows/edit/company.team/nightly/topology"))
	b.waitJS(`document.querySelector('.branch-tasks [data-node=steps] [data-node=extract]') && document.querySelector('.branch-errors [data-node=alert]') && document.querySelector('.branch-triggers [data-node=every_night]')`)
	b.shot("flow-topology")

	b.run(chromedp.Click(`//a[@role="tab"][normalize-space(.)="Revisions"]`))
	b.waitJS(`document.querySelector('.diff .add') && document.querySelector('.diff .add').textContent.includes('message: extracting everything') && document.querySelector('.diff .del').textContent.includes('message: extracting')`)
	b.shot("flow-revisions")

	b.run(chromedp.Click(`//a[@role="tab"][normalize-space(.)="Triggers"]`))
	b.run(chromedp.Click(`//button[@aria-label="Disable every_night"]`))
	b.waitJS(`document.querySelector('button[aria-label="Enable every_night"]') !== null`)
	b.shot("flow-triggers")
	code, body = o.call(t, http.MethodGet, "/triggers/company.team/nightly", "", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"disabled":true`)
	b.run(chromedp.Click(`//button[@aria-label="Enable every_night"]`))
	b.waitJS(`document.querySelector('button[aria-label="Disable every_night"]') !== null`)

	// the editor tab keeps working after the others
	b.run(chromedp.Click(`//a[@role="tab"][normalize-space(.)="Editor"]`))
	b.waitJS(`(document.querySelector('.cm-content')?.textContent || '').includes('extracting everything')`)

	// Namespace files: create one, write it in the editor, save it.
	b.run(chromedp.Navigate(o.base + "/ui/main/namespaces/edit/company.team/files"))
	b.run(chromedp.WaitVisible(`input[name=name]`), chromedp.SendKeys(`input[name=name]`, "extract.sql"), chromedp.Click(`//button[normalize-space(.)="Create"]`))
	b.waitJS(`!!(document.querySelector('[data-testid=file-editor]') || {}).editorView && document.querySelector('tr[data-file="extract.sql"]') !== null`)
	var ok bool
	b.run(chromedp.Evaluate(`(() => { const v = document.querySelector('[data-testid=file-editor]').editorView; v.dispatch({changes: {from: 0, insert: "SELECT 1;\n"}}); return true; })()`, &ok))
	b.run(chromedp.Click(`.file-editor button.primary`))
	b.waitJS(`(document.querySelector('[role=status]')?.textContent || '').includes('Saved /extract.sql')`)
	b.shot("namespace-files")
	code, body = o.call(t, http.MethodGet, "/namespaces/company.team/files?path=/extract.sql", "", "")
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "SELECT 1;\n", body)

	// Resume a paused execution with its onResume inputs from a form.
	o.createFlow(t, `id: approval
namespace: company.team
tasks:
  - id: approve
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: approved
        type: BOOLEAN
        description: Ship it?
  - id: answer
    type: io.kestra.plugin.core.debug.Return
    format: "approved={{ outputs.approve.onResume.approved }}"
`)
	code, body = o.call(t, http.MethodPost, "/executions/company.team/approval", "", "")
	require.Equal(t, http.StatusOK, code, body)
	approvalID := regexp.MustCompile(`"id":"([\w-]+)"`).FindStringSubmatch(body)[1]
	b.run(chromedp.Navigate(o.base + "/ui/main/executions/company.team/approval/" + approvalID))
	b.waitJS(`document.querySelector('header [data-state="PAUSED"]') !== null`)
	b.run(chromedp.Click(`//header//button[normalize-space(.)="Resume"]`), chromedp.WaitVisible(`#input-approved`), chromedp.SetValue(`#input-approved`, "true"))
	b.shot("execution-resume")
	b.run(chromedp.Click(`//dialog//button[normalize-space(.)="Resume"]`))
	b.waitJS(`document.querySelector('header [data-state="SUCCESS"]') !== null`)
	b.run(chromedp.Click(`//a[@role="tab"][normalize-space(.)="Outputs"]`))
	b.waitJS(`(document.querySelector('table[aria-label=Outputs]')?.textContent || '').includes('approved=true')`)
}
