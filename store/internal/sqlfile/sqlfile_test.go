package sqlfile

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseQueries(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    map[string]string
		wantErr string
	}{
		{
			name: "named blocks, comments dropped, trailing semicolon trimmed",
			src:  "-- header\n\n-- name: a\n-- why\nSELECT 1;\n\n-- name: b\nSELECT\n  2;\n",
			want: map[string]string{"a": "SELECT 1", "b": "SELECT\n  2"},
		},
		{name: "duplicate", src: "-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;\n", wantErr: `query "a" is defined twice`},
		{name: "empty", src: "-- name: a\n-- name: b\nSELECT 2;\n", wantErr: `query "a" is empty`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.src)
			if tc.wantErr != "" {
				require.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
