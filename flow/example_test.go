package flow_test

import (
	"errors"
	"fmt"

	"github.com/ospreyhq/osprey/flow"
)

func ExampleParse() {
	src := []byte(`id: hello
namespace: company.team
tasks:
  - id: greet
    type: io.kestra.plugin.core.log.Log
    message: Hello {{ inputs.who }}
    disabled: sometimes
  - id: greet
    typ: io.kestra.plugin.core.log.Log
`)
	_, err := flow.Parse(src, flow.ParseOptions{})
	var errs flow.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Printf("%d:%d %s: %s\n", e.Line, e.Column, e.Path, e.Message)
		}
	}
	// Output:
	// 7:5 tasks[0].disabled: disabled must be a boolean (true or false), not a string "sometimes"
	// 8:5 tasks[1]: task "greet" needs a type; is "typ" a misspelt type?
	// 8:5 tasks[1].id: duplicate task id "greet": task ids must be unique in a flow (first at tasks[0], line 4)
}
