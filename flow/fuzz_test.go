package flow_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ospreyhq/osprey/flow"
)

// FuzzParse feeds Parse arbitrary sources: it must never panic, must
// return either a flow or Errors, and every error must say where it is.
// The seed corpus is testdata/valid, testdata/invalid and
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/valid/*.yaml", "testdata/invalid/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 64<<10 {
			return
		}
		for _, types := range []flow.TypeChecker{nil, corpusTypes{}} {
			fl, err := flow.Parse(src, flow.ParseOptions{Types: types})
			if err == nil {
				if fl == nil || fl.Source != string(src) {
					t.Fatalf("no error but flow %v", fl)
				}
				for _, task := range fl.AllTasks() {
					if task.Path == "" || task.Pos.Line < 1 || task.Pos.Column < 1 {
						t.Fatalf("task %q without path or position: %+v", task.ID, task)
					}
				}
				continue
			}
			if fl != nil {
				t.Fatalf("a flow with errors: %v", err)
			}
			var errs flow.Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("want flow.Errors, got %T %v", err, err)
			}
			for _, e := range errs {
				if e.Line < 1 || e.Column < 1 || e.Message == "" {
					t.Fatalf("error without position or message: %+v", e)
				}
			}
		}
	})
}
