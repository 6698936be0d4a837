package mask_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/expr"
	"github.com/ospreyhq/osprey/mask"
)

// Every filter that keeps the value recognisable produces a form the
// Masker knows, checked against the real expression engine.
func TestFiltersDoNotLeak(t *testing.T) {
	t.Parallel()
	const secret = `Pa55 w0rd/with+chars&"quote" <b>`
	var m mask.Masker
	m.Add(secret)
	eng := expr.New(expr.Options{})
	for _, f := range []string{"upper", "lower", "trim", "title", "capitalize", "slugify", "base64encode", "urlencode", "json"} {
		t.Run(f, func(t *testing.T) {
			out, err := eng.Render(context.Background(), "x {{ s | "+f+" }} y", &expr.Scope{Vars: map[string]any{"s": secret}})
			require.NoError(t, err)
			masked := m.Mask(out)
			require.Contains(t, masked, mask.Redacted, "%s: %q", f, out)
			require.NotContains(t, masked, "w0rd", "%s: %q", f, out)
		})
	}
}
