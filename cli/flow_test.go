package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFlowValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(src), 0o600))
		return p
	}
	good := write("good.yaml", "id: ok\nnamespace: a.b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n")
	cases := []struct {
		name string
		src  string
		want []string // substrings of the output, each with its line:column
	}{
		{"syntax error", "id: x\nnamespace: a\ntasks:\n  - id: t\n   type: bad\n", []string{":5:"}},
		{"unknown task type", "id: x\nnamespace: a\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Nope\n", []string{":5:", "Nope"}},
		{"missing id", "namespace: a\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: m\n", []string{":1:", "id"}},
		{"bad cron", "id: x\nnamespace: a\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: m\ntriggers:\n  - id: s\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: \"0 11 * * 1#1\"\n", []string{":10:", "triggers[0].cron", "1#1"}},
		{"bad date", "id: x\nnamespace: a\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: m\ntriggers:\n  - id: s\n    type: io.kestra.plugin.core.trigger.ScheduleOnDates\n    dates:\n      - 2026-12-24T17:00:00Z\n      - tomorrow\n", []string{":12:", "dates[1]", "tomorrow"}},
		{"wrong property type", "id: x\nnamespace: a\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks: nope\n", []string{":6:", "tasks"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bad := write(strings.ReplaceAll(tc.name, " ", "-")+".yaml", tc.src)
			var out, errOut bytes.Buffer
			code := Main(t.Context(), []string{"flow", "validate", good, bad}, strings.NewReader(""), &out, &errOut, nil)
			require.Equal(t, 1, code, out.String())
			require.Contains(t, out.String(), good+": ok")
			for _, w := range tc.want {
				require.Contains(t, out.String(), w)
			}
			require.Contains(t, errOut.String(), "1 of 2 files are invalid")
		})
	}
	var out bytes.Buffer
	require.Equal(t, 0, Main(t.Context(), []string{"flow", "validate", good}, strings.NewReader(""), &out, &out, nil))
}
