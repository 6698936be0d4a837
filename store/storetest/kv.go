package storetest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/store"
)

// Expiry is judged by the store's clock (Clock(t)), which stands still at a
// fixed instant, so the tests place Expires relative to it, never to
// time.Now.
var kvTests = []test{
	{"PutGetRoundTrip", testKVRoundTrip},
	{"OverwriteKeepsCreated", testKVOverwrite},
	{"OverwriteExpiredStartsAfresh", testKVOverwriteExpired},
	{"NamespacesAreSeparate", testKVNamespaces},
	{"ListPerNamespaceByKeyLiveOnly", testKVList},
	{"ExpiredIsNotFound", testKVExpired},
	{"DeleteThenGet", testKVDelete},
	{"DeleteAbsentIsNotFound", testKVDeleteAbsent},
	{"PutRejectsInvalidJSON", testKVInvalidJSON},
	{"PurgeSelects", testKVPurge},
}

func testKVRoundTrip(t *testing.T, s store.Store) {
	ctx, kv, now := t.Context(), s.KV(), Clock(t).Now()
	cases := []struct {
		name string
		in   store.KVRecord
	}{
		{"string never expires", store.KVRecord{Key: "greeting", Type: "STRING", Value: json.RawMessage(`"hello"`)}},
		{"number with description", store.KVRecord{TenantID: "main", Key: "limit", Type: "NUMBER",
			Value: json.RawMessage(`42.5`), Description: "max rows per run"}},
		{"boolean expiring", store.KVRecord{Key: "enabled", Type: "BOOLEAN", Value: json.RawMessage(`true`),
			Expires: ptr(now.Add(90 * time.Minute))}},
		{"datetime", store.KVRecord{Key: "cutoff", Type: "DATETIME", Value: json.RawMessage(`"2026-03-04T05:06:07.123Z"`)}},
		{"json with NUL escape and nesting", store.KVRecord{Key: "config", Type: "JSON",
			Value:       json.RawMessage(`{"z": [1, 2.50, {"n": null}], "a": "x\u0000y", "u": "é"}`),
			Description: "nested", Expires: ptr(now.Add(24 * time.Hour))}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.Namespace = "acme"
			require.NoError(t, kv.Put(ctx, c.in))
			got, err := kv.Get(ctx, "acme", c.in.Key)
			require.NoError(t, err)
			requireSameKV(t, c.in, got)
			requireSameTime(t, now, got.Created, "Created is the store's clock")
			requireSameTime(t, now, got.Updated, "Updated is the store's clock")
		})
	}
}

func testKVOverwrite(t *testing.T, s store.Store) {
	ctx, kv, clock := t.Context(), s.KV(), Clock(t)
	created := clock.Now()
	require.NoError(t, kv.Put(ctx, store.KVRecord{Namespace: "acme", Key: "k", Type: "STRING",
		Value: json.RawMessage(`"v1"`), Description: "first", Expires: ptr(created.Add(time.Hour))}))

	clock.Advance(time.Minute)
	second := store.KVRecord{Namespace: "acme", Key: "k", Type: "NUMBER", Value: json.RawMessage(`2`)}
	require.NoError(t, kv.Put(ctx, second))
	got, err := kv.Get(ctx, "acme", "k")
	require.NoError(t, err)
	requireSameKV(t, second, got)
	requireSameTime(t, created, got.Created, "an overwrite keeps Created")
	requireSameTime(t, clock.Now(), got.Updated, "an overwrite moves Updated")
}

func testKVOverwriteExpired(t *testing.T, s store.Store) {
	ctx, kv, clock := t.Context(), s.KV(), Clock(t)
	require.NoError(t, kv.Put(ctx, store.KVRecord{Namespace: "acme", Key: "k", Type: "STRING",
		Value: json.RawMessage(`"old"`), Expires: ptr(clock.Now().Add(time.Minute))}))

	clock.Advance(2 * time.Minute)
	require.NoError(t, kv.Put(ctx, store.KVRecord{Namespace: "acme", Key: "k", Type: "STRING",
		Value: json.RawMessage(`"new"`)}))
	got, err := kv.Get(ctx, "acme", "k")
	require.NoError(t, err)
	require.JSONEq(t, `"new"`, string(got.Value))
	requireSameTime(t, clock.Now(), got.Created, "the expired entry was gone: this one is new")
}

func testKVNamespaces(t *testing.T, s store.Store) {
	ctx, kv := t.Context(), s.KV()
	for _, ns := range []string{"acme", "acme.team", "other"} {
		require.NoError(t, kv.Put(ctx, store.KVRecord{Namespace: ns, Key: "k", Type: "STRING",
			Value: json.RawMessage(`"` + ns + `"`)}))
	}
	require.NoError(t, kv.Delete(ctx, "acme", "k"))
	_, err := kv.Get(ctx, "acme", "k")
	require.ErrorIs(t, err, store.ErrNotFound)
	for _, ns := range []string{"acme.team", "other"} {
		got, err := kv.Get(ctx, ns, "k")
		require.NoError(t, err, "deleting acme/k leaves %s/k", ns)
		require.JSONEq(t, `"`+ns+`"`, string(got.Value))
	}
}

func testKVList(t *testing.T, s store.Store) {
	ctx, kv, clock := t.Context(), s.KV(), Clock(t)
	now := clock.Now()
	puts := []struct {
		ns, key string
		expires *time.Time
	}{
		{"acme", "b", nil},
		{"acme", "expired", ptr(now.Add(-time.Minute))},
		{"acme", "a", nil},
		{"acme", "soon", ptr(now.Add(time.Minute))},
		{"acme", "B", nil}, // byte order: upper case first
		{"acme.team", "a", nil},
		{"other", "z", nil},
	}
	for _, p := range puts {
		require.NoError(t, kv.Put(ctx, store.KVRecord{Namespace: p.ns, Key: p.key, Type: "STRING",
			Value: json.RawMessage(`"` + p.key + `"`), Expires: p.expires}))
	}
	keys := func(ns string) []string {
		t.Helper()
		list, err := kv.List(ctx, ns)
		require.NoError(t, err)
		out := []string{}
		for _, r := range list {
			require.Equal(t, ns, r.Namespace)
			require.JSONEq(t, `"`+r.Key+`"`, string(r.Value), "List returns the values")
			out = append(out, r.Key)
		}
		return out
	}
	require.Equal(t, []string{"B", "a", "b", "soon"}, keys("acme"), "one namespace, by key, live only")
	require.Equal(t, []string{"a"}, keys("acme.team"))
	require.Empty(t, keys("nowhere"))

	all, err := kv.List(ctx, "")
	require.NoError(t, err)
	var where []string
	for _, r := range all {
		where = append(where, r.Namespace+"/"+r.Key)
	}
	require.Equal(t, []string{"acme/B", "acme/a", "acme/b", "acme/soon", "acme.team/a", "other/z"}, where,
		"every namespace, by namespace then key")

	clock.Advance(time.Minute)
	require.Equal(t, []string{"B", "a", "b"}, keys("acme"), "an entry leaves the list when it expires")
}

func testKVExpired(t *testing.T, s store.Store) {
	ctx, kv, clock := t.Context(), s.KV(), Clock(t)
	cases := []struct {
		name    string
		expires time.Duration // from now, at Put
		advance time.Duration // then the clock moves by this
		found   bool
	}{
		{"in the past", -time.Minute, 0, false},
		{"exactly now", 0, 0, false},
		{"in the future", time.Minute, 0, true},
		{"reached later", time.Minute, time.Minute, false},
		{"not yet reached", time.Minute, time.Minute - time.Second, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, kv.Put(ctx, store.KVRecord{Namespace: "acme", Key: c.name, Type: "STRING",
				Value: json.RawMessage(`"v"`), Expires: ptr(clock.Now().Add(c.expires))}))
			clock.Advance(c.advance)
			_, err := kv.Get(ctx, "acme", c.name)
			if c.found {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, store.ErrNotFound)
			}
		})
	}
}

func testKVDelete(t *testing.T, s store.Store) {
	ctx, kv := t.Context(), s.KV()
	require.NoError(t, kv.Put(ctx, store.KVRecord{Namespace: "acme", Key: "k", Type: "STRING",
		Value: json.RawMessage(`"v"`)}))
	require.NoError(t, kv.Delete(ctx, "acme", "k"))
	_, err := kv.Get(ctx, "acme", "k")
	require.ErrorIs(t, err, store.ErrNotFound)
	list, err := kv.List(ctx, "acme")
	require.NoError(t, err)
	require.Empty(t, list)
}

func testKVDeleteAbsent(t *testing.T, s store.Store) {
	ctx, kv, now := t.Context(), s.KV(), Clock(t).Now()
	require.NoError(t, kv.Put(ctx, store.KVRecord{Namespace: "acme", Key: "deleted", Type: "STRING",
		Value: json.RawMessage(`"v"`)}))
	require.NoError(t, kv.Delete(ctx, "acme", "deleted"))
	require.NoError(t, kv.Put(ctx, store.KVRecord{Namespace: "acme", Key: "expired", Type: "STRING",
		Value: json.RawMessage(`"v"`), Expires: ptr(now.Add(-time.Minute))}))
	require.NoError(t, kv.Put(ctx, store.KVRecord{Namespace: "other", Key: "elsewhere", Type: "STRING",
		Value: json.RawMessage(`"v"`)}))

	for _, key := range []string{"missing", "deleted", "expired", "elsewhere"} {
		t.Run(key, func(t *testing.T) {
			require.ErrorIs(t, kv.Delete(ctx, "acme", key), store.ErrNotFound)
		})
	}
	_, err := kv.Get(ctx, "other", "elsewhere")
	require.NoError(t, err, "a delete in acme leaves other namespaces alone")
}

func testKVInvalidJSON(t *testing.T, s store.Store) {
	ctx, kv := t.Context(), s.KV()
	for _, v := range []string{``, `{`, `hello`} {
		err := kv.Put(ctx, store.KVRecord{Namespace: "acme", Key: "k", Type: "JSON", Value: json.RawMessage(v)})
		require.Error(t, err, "value %q", v)
	}
	_, err := kv.Get(ctx, "acme", "k")
	require.ErrorIs(t, err, store.ErrNotFound, "a refused put stores nothing")
}

// requireSameKV compares what Put was given with what Get returned: the
// value as JSON (a driver may respell it) and the times as instants in UTC.
func requireSameKV(t *testing.T, want, got store.KVRecord) {
	t.Helper()
	require.Equal(t, want.TenantID, got.TenantID, "TenantID")
	require.Equal(t, want.Namespace, got.Namespace, "Namespace")
	require.Equal(t, want.Key, got.Key, "Key")
	require.Equal(t, want.Type, got.Type, "Type")
	require.JSONEq(t, string(want.Value), string(got.Value), "Value")
	require.Equal(t, want.Description, got.Description, "Description")
	if want.Expires == nil {
		require.Nil(t, got.Expires, "Expires")
		return
	}
	require.NotNil(t, got.Expires, "Expires")
	requireSameTime(t, *want.Expires, *got.Expires, "Expires")
}

// requireSameTime checks that got is the instant want, in UTC.
func requireSameTime(t *testing.T, want, got time.Time, msg string) {
	t.Helper()
	require.Truef(t, want.Equal(got), "%s: want %v, got %v", msg, want, got)
	require.Equal(t, time.UTC, got.Location(), "%s: in UTC", msg)
}

func testKVPurge(t *testing.T, s store.Store) {
	ctx, kv, clock := t.Context(), s.KV(), Clock(t)
	type entry struct {
		ns, key string
		expired bool
	}
	fixture := []entry{
		{"acme", "a", true}, {"acme", "b", false}, {"acme", "AI_1", true},
		{"acme.team", "c", true}, {"acme.team", "d", false},
		{"acmeco", "e", true},
	}
	tests := []struct {
		name string
		p    store.KVPurgeParams
		want []string // ns/key removed
	}{
		{"expired of one namespace", store.KVPurgeParams{Namespace: "acme", ExpiredOnly: true}, []string{"acme/AI_1", "acme/a"}},
		{"expired with children, not look-alikes", store.KVPurgeParams{Namespace: "acme", Children: true, ExpiredOnly: true}, []string{"acme/AI_1", "acme/a", "acme.team/c"}},
		{"all with children", store.KVPurgeParams{Namespace: "acme", Children: true}, []string{"acme/AI_1", "acme/a", "acme/b", "acme.team/c", "acme.team/d"}},
		{"matched keys", store.KVPurgeParams{Namespace: "acme", Children: true, Match: func(_, k string) bool { return strings.HasPrefix(k, "AI_") }}, []string{"acme/AI_1"}},
	}
	for _, tc := range tests {
		for _, ns := range []string{"acme", "acmeco"} {
			_, err := kv.Purge(ctx, store.KVPurgeParams{Namespace: ns, Children: true})
			require.NoError(t, err)
		}
		now := clock.Now()
		for _, e := range fixture {
			exp := now.Add(time.Hour)
			if e.expired {
				exp = now.Add(-time.Second)
			}
			require.NoError(t, kv.Put(ctx, store.KVRecord{Namespace: e.ns, Key: e.key, Type: "STRING",
				Value: json.RawMessage(`"v"`), Expires: &exp}))
		}
		p := tc.p
		p.Now = now
		n, err := kv.Purge(ctx, p)
		require.NoError(t, err, tc.name)
		require.Equal(t, len(tc.want), n, tc.name)
		for _, e := range fixture {
			// an expired entry reads as absent either way; a live one
			// must be gone exactly when the purge chose it
			if e.expired {
				continue
			}
			_, err := kv.Get(ctx, e.ns, e.key)
			if slices.Contains(tc.want, e.ns+"/"+e.key) {
				require.ErrorIs(t, err, store.ErrNotFound, "%s: %s/%s", tc.name, e.ns, e.key)
			} else {
				require.NoError(t, err, "%s: %s/%s", tc.name, e.ns, e.key)
			}
		}
		// a second identical purge finds nothing left to remove
		n, err = kv.Purge(ctx, p)
		require.NoError(t, err)
		require.Zero(t, n, tc.name)
	}
}
