package taskidentity_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/mask"
	"github.com/ospreyhq/osprey/taskidentity"
)

// The worker starts one endpoint and grants each task run its variables;
// the header is masked in that task run's logs from the start.
func ExampleServer_Grant() {
	ctx := context.Background()
	pol, _ := taskidentity.ParsePolicy(map[string]any{"company": []any{"https://storage.azure.com"}})
	s := taskidentity.New(taskidentity.Options{Policy: pol})
	if err := s.Start(ctx); err != nil {
		panic(err)
	}
	defer s.Stop(ctx)

	var m mask.Masker
	env, release := s.Grant(ctx, &flow.TaskRun{ID: "tr", Namespace: "company.team"}, m.Add, func(string, string) {})
	defer release()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Println(k, strings.HasPrefix(v, "http://127.0.0.1:"), m.Mask(v) == mask.Redacted)
	}
	fmt.Println(pol.Allowed("company.team"))
	// Output:
	// IDENTITY_ENDPOINT true false
	// IDENTITY_HEADER false true
	// [https://storage.azure.com]
}
