// Package conformance runs Kestra's own test flows against Osprey and
// compares what happens with what Kestra's tests assert
// (shared/kestra-corpus: flows/, expectations.yaml, env.yaml). It drives
// Osprey through a System so the same runner serves `osprey conformance`
// and the Go test.
package conformance

import (
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// Expectations is expectations.yaml.
type Expectations struct {
	Flows []FlowEntry `yaml:"flows"`
}

// FlowEntry is one flow file and its cases.
type FlowEntry struct {
	File      string   `yaml:"file"`
	Namespace string   `yaml:"namespace"`
	ID        string   `yaml:"id"`
	StartedBy []string `yaml:"started_by"`
	Features  string   `yaml:"features"`
	Cases     []Case   `yaml:"cases"`
}

// Case is one test case of a flow.
type Case struct {
	Name          string         `yaml:"name"`
	LoadedFlows   []string       `yaml:"loaded_flows"`
	Start         Start          `yaml:"start"`
	Intermediate  *Intermediate  `yaml:"intermediate"`
	Actions       []string       `yaml:"actions"`
	ExpectedState string         `yaml:"expected_state"`
	Derived       string         `yaml:"derived"`
	Expected      string         `yaml:"expected"`
	TaskRunCount  *int           `yaml:"task_run_count"`
	ExecCount     *int           `yaml:"executions_count"`
	Asserts       []Assert       `yaml:"asserts"`
	Related       []Related      `yaml:"related_executions"`
	Note          string         `yaml:"note"`
	Extra         map[string]any `yaml:",inline"`
}

// Start says how the test starts the flow.
type Start struct {
	Kind             string            `yaml:"kind"`
	Inputs           any               `yaml:"inputs"`
	InputMode        string            `yaml:"input_mode"`
	ExecutionLabels  map[string]string `yaml:"execution_labels"`
	ScheduleDate     string            `yaml:"schedule_date"`
	Parent           string            `yaml:"parent"`
	InputsFromParent map[string]any    `yaml:"inputs_from_parent"`
	SourceFlow       string            `yaml:"source_flow"`
	Request          *Request          `yaml:"request"`
	Note             string            `yaml:"note"`
}

// Request is a webhook call.
type Request struct {
	Method   string  `yaml:"method"`
	Path     string  `yaml:"path"`
	JSONBody any     `yaml:"json_body"`
	Body     *string `yaml:"body"`
}

// Intermediate is what is observed before the actions.
type Intermediate struct {
	State        string   `yaml:"state"`
	TaskRunCount *int     `yaml:"task_run_count"`
	Asserts      []Assert `yaml:"asserts"`
}

// Assert is one asserted fact.
type Assert struct {
	Target  string `yaml:"target"`
	Op      string `yaml:"op"`
	Value   any    `yaml:"value"`
	ValueOf string `yaml:"value_of"`
	State   string `yaml:"state"`
	Note    string `yaml:"note"`
}

// Related is another execution the case asserts.
type Related struct {
	Flow          string   `yaml:"flow"`
	Role          string   `yaml:"role"`
	ExpectedState string   `yaml:"expected_state"`
	TaskRunCount  *int     `yaml:"task_run_count"`
	Asserts       []Assert `yaml:"asserts"`
}

// Env is env.yaml: the environment the Kestra tests run in.
type Env struct {
	Vars    map[string]string
	Globals map[string]any
}

// LoadCorpus reads expectations.yaml and env.yaml from dir.
func LoadCorpus(dir string) (*Expectations, *Env, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "expectations.yaml"))
	if err != nil {
		return nil, nil, fmt.Errorf("read expectations: %w", err)
	}
	var ex Expectations
	if err := yaml.Unmarshal(raw, &ex); err != nil {
		return nil, nil, fmt.Errorf("parse expectations.yaml: %w", err)
	}
	rawEnv, err := os.ReadFile(filepath.Join(dir, "env.yaml"))
	if err != nil {
		return nil, nil, fmt.Errorf("read env: %w", err)
	}
	var doc struct {
		EnvironmentVariables struct {
			Values map[string]struct {
				Value string `yaml:"value"`
			} `yaml:"values"`
		} `yaml:"environment_variables"`
		KestraConfiguration struct {
			Globals struct {
				Excerpt string `yaml:"excerpt"`
			} `yaml:"globals"`
		} `yaml:"kestra_configuration"`
	}
	if err := yaml.Unmarshal(rawEnv, &doc); err != nil {
		return nil, nil, fmt.Errorf("parse env.yaml: %w", err)
	}
	env := &Env{Vars: map[string]string{}}
	for k, v := range doc.EnvironmentVariables.Values {
		env.Vars[k] = v.Value
	}
	var g struct {
		Kestra struct {
			Variables struct {
				Globals map[string]any `yaml:"globals"`
			} `yaml:"variables"`
		} `yaml:"kestra"`
	}
	if err := yaml.Unmarshal([]byte(doc.KestraConfiguration.Globals.Excerpt), &g); err != nil {
		return nil, nil, fmt.Errorf("parse globals in env.yaml: %w", err)
	}
	env.Globals = g.Kestra.Variables.Globals
	return &ex, env, nil
}
