package input_test

import (
	"errors"
	"fmt"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/input"
)

func ExampleRead() {
	f, _ := flow.Parse([]byte(`id: report
namespace: company.team
inputs:
  - id: day
    type: DATE
  - id: retries
    type: INT
    max: 5
  - id: window
    type: DURATION
    defaults: P1D
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.day }}"
`), flow.ParseOptions{})

	got, err := input.Read(f, map[string]any{"day": "2024-01-15", "retries": "3"})
	fmt.Println(got["day"], got["retries"], got["window"], err)

	_, err = input.Read(f, map[string]any{"day": "15/01/2024", "retries": "9"})
	var errs flow.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Printf("%s: %s\n", e.Path, e.Message)
		}
	}
	// Output:
	// 2024-01-15 3 PT24H <nil>
	// inputs.day: Invalid input for `day`, it must be an ISO-8601 date, such as 2024-01-15, but received `15/01/2024`
	// inputs.retries: Invalid input for `retries`, it must be less than `5`, but received `9`
}
