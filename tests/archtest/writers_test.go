package archtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// stateWriters are the packages allowed to change an existing execution's
// state: the executor and the pure engine it runs, and the store, whose
// drivers persist what the executor hands them. flow defines the state
// type. Everyone else sends a command (store.ExecutionStore.Send) or
// creates a new execution.
var stateWriters = []string{"engine", "executor", "store", "flow"}

// TestOnlyTheExecutorWritesExecutionState type-checks every non-test file
// of the module outside stateWriters and fails on each place that changes
// an execution's state: a call of flow.StateInfo.Set, an assignment to a
// State field of an execution, task run or attempt (or to a StateInfo's
// fields), or a call of store.ExecutionStore.Save.
func TestOnlyTheExecutorWritesExecutionState(t *testing.T) {
	t.Parallel()
	pkgs, exports := listModule(t)
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	})
	checked := 0
	for _, p := range pkgs {
		rel := strings.TrimPrefix(p.ImportPath, strings.TrimSuffix(mod, "/"))
		rel = strings.TrimPrefix(rel, "/")
		if allowedWriter(rel) || len(p.GoFiles) == 0 {
			continue
		}
		var files []*ast.File
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, 0)
			require.NoError(t, err)
			files = append(files, f)
		}
		info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Selections: map[*ast.SelectorExpr]*types.Selection{}, Uses: map[*ast.Ident]types.Object{}}
		conf := types.Config{Importer: imp, Error: func(error) {}}
		if _, err := conf.Check(p.ImportPath, fset, files, info); err != nil {
			var te types.Error
			if !errors.As(err, &te) || !te.Soft {
				t.Fatalf("type-check %s: %v", p.ImportPath, err)
			}
		}
		checked++
		for _, f := range files {
			for _, v := range stateWrites(info, f) {
				t.Errorf("%s: %s outside the executor: send a command (store.ExecutionStore.Send) instead; see docs/ARCHITECTURE.md", fset.Position(v.pos), v.what)
			}
		}
	}
	require.Greater(t, checked, 10, "the rule looked at the module's packages")
}

func allowedWriter(rel string) bool {
	for _, w := range stateWriters {
		if rel == w || strings.HasPrefix(rel, w+"/") {
			return true
		}
	}
	return false
}

type violation struct {
	pos  token.Pos
	what string
}

// stateWrites finds the state writes in f.
func stateWrites(info *types.Info, f *ast.File) []violation {
	var out []violation
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			s := info.Selections[sel]
			if s == nil || s.Kind() != types.MethodVal {
				return true
			}
			recv := namedOf(s.Recv())
			switch {
			case recv == "flow.StateInfo" && sel.Sel.Name == "Set":
				out = append(out, violation{n.Pos(), "a state change (StateInfo.Set)"})
			case recv == "store.ExecutionStore" && sel.Sel.Name == "Save":
				out = append(out, violation{n.Pos(), "an execution save (ExecutionStore.Save)"})
			}
		case *ast.AssignStmt:
			for _, lhs := range n.Lhs {
				if what := stateField(info, lhs); what != "" {
					out = append(out, violation{lhs.Pos(), "an assignment to " + what})
				}
			}
		}
		return true
	})
	return out
}

// stateField names the state field e selects, or "".
func stateField(info *types.Info, e ast.Expr) string {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	s := info.Selections[sel]
	if s == nil || s.Kind() != types.FieldVal {
		return ""
	}
	owner := namedOf(s.Recv())
	field := sel.Sel.Name
	switch {
	case field == "State" && slices.Contains([]string{"flow.Execution", "flow.TaskRun", "flow.TaskRunAttempt"}, owner):
		return owner + ".State"
	case owner == "flow.StateInfo" && (field == "Current" || field == "Histories"):
		return owner + "." + field
	}
	return ""
}

// namedOf names t's named type as pkg.Name (through pointers), or "".
func namedOf(t types.Type) string {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := t.(*types.Named)
	if !ok || n.Obj().Pkg() == nil {
		return ""
	}
	return n.Obj().Pkg().Name() + "." + n.Obj().Name()
}

type listedPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Export     string
	Module     *struct{ Path string }
}

// listModule lists the module's packages and the export data of every
// package they depend on, compiled by the go command (cached after the
// first run).
func listModule(t *testing.T) ([]listedPackage, map[string]string) {
	t.Helper()
	cmd := exec.Command("go", "list", "-export", "-deps", "-json", mod+"...")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("go list: %v\n%s", err, ee.Stderr)
	}
	require.NoError(t, err)
	dec := json.NewDecoder(strings.NewReader(string(out)))
	exports := map[string]string{}
	var ours []listedPackage
	for dec.More() {
		var p listedPackage
		require.NoError(t, dec.Decode(&p))
		if p.Export != "" {
			exports[p.ImportPath] = p.Export
		}
		if strings.HasPrefix(p.ImportPath, mod) || p.ImportPath+"/" == mod {
			ours = append(ours, p)
		}
	}
	return ours, exports
}

// TestStateWritesFindsEachKind checks the rule's detector on a package
// that writes state in every way it forbids, and in none it allows.
func TestStateWritesFindsEachKind(t *testing.T) {
	t.Parallel()
	_, exports := listModule(t)
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	})
	const src = `package bad

import (
	"context"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

func write(ctx context.Context, s store.Store, ex *flow.Execution, r struct{ State flow.State }) {
	ex.State.Set(flow.StateKilling, time.Now())
	ex.TaskRunList[0].State = flow.StateInfo{}
	ex.State.Current = flow.StateRunning
	_, _ = s.Executions().Save(ctx, store.SaveParams{Execution: ex})
	// allowed: a new execution's first state, a command, a read, another type's State
	_ = &flow.Execution{State: flow.NewStateInfo(flow.StateCreated, time.Now())}
	_, _ = s.Executions().Send(ctx, store.Command{ExecutionID: ex.ID})
	_ = ex.State.Has(flow.StateRunning)
	r.State = flow.StateFailed
}
`
	f, err := parser.ParseFile(fset, "bad.go", src, 0)
	require.NoError(t, err)
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Selections: map[*ast.SelectorExpr]*types.Selection{}, Uses: map[*ast.Ident]types.Object{}}
	_, err = (&types.Config{Importer: imp}).Check("bad", fset, []*ast.File{f}, info)
	require.NoError(t, err)
	var lines []int
	for _, v := range stateWrites(info, f) {
		lines = append(lines, fset.Position(v.pos).Line)
	}
	require.Equal(t, []int{12, 13, 14, 15}, lines)
}
