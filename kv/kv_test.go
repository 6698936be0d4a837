package kv_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/kv"
	"github.com/ospreyhq/osprey/store"
)

func TestEncodeDecode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		value    any
		typ      string
		wantType string
		want     any // what reads back
		err      string
	}{
		{name: "text", value: "hello", wantType: "STRING", want: "hello"},
		{name: "integer", value: int64(42), wantType: "NUMBER", want: int64(42)},
		{name: "float", value: 1.5, wantType: "NUMBER", want: 1.5},
		{name: "boolean", value: true, wantType: "BOOLEAN", want: true},
		{name: "object", value: map[string]any{"a": []any{int64(1), "b"}}, wantType: "JSON", want: map[string]any{"a": []any{int64(1), "b"}}},
		{name: "text as NUMBER", value: "42", typ: "number", wantType: "NUMBER", want: int64(42)},
		{name: "text as BOOLEAN", value: "TRUE", typ: "BOOLEAN", wantType: "BOOLEAN", want: true},
		{name: "text as JSON", value: `{"k":[1,2]}`, typ: "JSON", wantType: "JSON", want: map[string]any{"k": []any{int64(1), int64(2)}}},
		{name: "DATETIME in UTC", value: "2026-12-24T18:00:00+01:00", typ: "DATETIME", wantType: "DATETIME", want: "2026-12-24T17:00:00Z"},
		{name: "DATE", value: "2026-12-24", typ: "DATE", wantType: "DATE", want: "2026-12-24"},
		{name: "DURATION", value: "PT5M", typ: "DURATION", wantType: "DURATION", want: "PT5M"},
		{name: "not a number", value: "many", typ: "NUMBER", err: "a NUMBER value must be a number, not text"},
		{name: "bad JSON", value: "{", typ: "JSON", err: "valid JSON"},
		{name: "bad duration", value: "5 minutes", typ: "DURATION", err: "duration"},
		{name: "STRING of a list", value: []any{"a"}, typ: "STRING", err: "not a list"},
		{name: "unknown type", value: "x", typ: "BLOB", err: "kvType \"BLOB\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			typ, raw, err := kv.Encode(tc.value, tc.typ)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantType, typ)
			got, err := kv.Decode(store.KVRecord{Namespace: "n", Key: "k", Type: typ, Value: raw})
			require.NoError(t, err)
			require.Equal(t, tc.want, ordered.Plain(got))
		})
	}
}

func TestCheckKey(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"a", "my_key", "A-1.b", "9lives"} {
		require.NoError(t, kv.CheckKey(k), k)
	}
	for _, k := range []string{"", "-a", ".a", "a b", "a/b", "ключ"} {
		require.ErrorContains(t, kv.CheckKey(k), "is invalid", k)
	}
}
