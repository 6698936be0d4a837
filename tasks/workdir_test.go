package tasks_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/tasks"
)

// What Kestra's WorkingDirectoryTaskValidator refuses
// (core/src/test/java/io/kestra/core/validations/WorkingDirectoryTest.java,
// flows/invalids/workingdirectory-invalid.yaml, workingdirectory-no-tasks.yaml),
// and what it accepts.
func TestWorkingDirectoryValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, tasks, want string
	}{
		{name: "no tasks", want: "The 'tasks' property cannot be empty", tasks: `
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory`},
		{name: "a flowable child", want: "Only runnable tasks are allowed as children of a WorkingDirectory task: wait is a flowable task", tasks: `
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: hi
      - id: wait
        type: io.kestra.plugin.core.flow.Pause
        delay: PT5S`},
		{name: "a child with a worker group", want: "Cannot set a Worker Group in any WorkingDirectory sub-tasks", tasks: `
  - id: wd
    type: io.kestra.core.tasks.flows.Worker
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: hi
        workerGroup:
          key: gpu`},
		{name: "a cache without patterns", want: "a cache needs patterns", tasks: `
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    cache:
      ttl: PT1H
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: hi`},
		{name: "an unknown property", want: `unknown property "outputFile"`, tasks: `
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    outputFile: [a.txt]
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: hi`},
		{name: "Kestra's properties, legacy name", tasks: `
  - id: wd
    type: io.kestra.core.tasks.flows.WorkingDirectory
    inputFiles:
      a.txt: hello
    outputFiles: [b.txt]
    namespaceFiles:
      enabled: true
      exclude: [/ignore/**]
    cache:
      patterns: [node_modules/**]
      ttl: PT1H
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    tasks:
      - id: copy
        type: io.kestra.plugin.scripts.shell.Commands
        commands: [cp a.txt b.txt]
    errors:
      - id: on-error
        type: io.kestra.plugin.core.log.Log
        message: failed
    finally:
      - id: always
        type: io.kestra.plugin.core.log.Log
        message: done`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := "id: wd\nnamespace: osprey.tests\ntasks:" + tc.tasks + "\n"
			_, err := flow.Parse([]byte(src), flow.ParseOptions{Types: tasks.New()})
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
}
