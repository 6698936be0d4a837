package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
)

func ExampleOpen() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "osprey-example-")
	defer os.RemoveAll(dir)

	st, err := sqlite.Open(ctx, filepath.Join(dir, "osprey.db"), sqlite.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()

	rec, err := st.Flows().Create(ctx, store.PutFlowParams{Namespace: "company.team", ID: "hello",
		Source: "id: hello\nnamespace: company.team\ntasks: []\n"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rec.Namespace, rec.ID, "revision", rec.Revision)
	// Output: company.team hello revision 1
}
