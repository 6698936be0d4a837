package local_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/storage/local"
)

// A task run's file is stored under Kestra's layout and read back by its
// kestra:/// URI.
func Example() {
	dir, _ := os.MkdirTemp("", "storage-example-")
	defer os.RemoveAll(dir)
	st, _ := local.New(dir)
	ctx := context.Background()
	p := storage.TaskRunPath("acme.sales", "daily", "E1", "extract", "TR1") + "/orders.csv"
	n, _ := st.Put(ctx, p, strings.NewReader("id,total\n1,10\n"))
	rc, _ := st.Get(ctx, storage.URI(p))
	b, _ := io.ReadAll(rc)
	rc.Close()
	fmt.Println(storage.URI(p), n)
	fmt.Print(string(b))
	// Output:
	// kestra:///acme/sales/daily/executions/E1/tasks/extract/TR1/orders.csv 14
	// id,total
	// 1,10
}
