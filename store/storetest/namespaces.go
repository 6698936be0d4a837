package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/store"
)

var namespaceTests = []test{
	{"PutGetReplaceList", testNamespaces},
	{"AbsentIsNotFound", testNamespaceAbsent},
}

func testNamespaces(t *testing.T, s store.Store) {
	ctx, ns := t.Context(), s.Namespaces()
	require.NoError(t, ns.Put(ctx, store.NamespaceRecord{Namespace: "company.payroll", AllowedNamespaces: []string{"company.hr", "company.payroll.jobs"}}))
	require.NoError(t, ns.Put(ctx, store.NamespaceRecord{Namespace: "company.open"}))
	got, err := ns.Get(ctx, "company.payroll")
	require.NoError(t, err)
	require.Equal(t, []string{"company.hr", "company.payroll.jobs"}, got.AllowedNamespaces)
	require.Equal(t, Clock(t).Now().UTC(), got.Updated)

	require.NoError(t, ns.Put(ctx, store.NamespaceRecord{Namespace: "company.payroll", AllowedNamespaces: []string{"company.hr"}}))
	got, err = ns.Get(ctx, "company.payroll")
	require.NoError(t, err)
	require.Equal(t, []string{"company.hr"}, got.AllowedNamespaces, "a Put replaces the list")

	open, err := ns.Get(ctx, "company.open")
	require.NoError(t, err)
	require.Empty(t, open.AllowedNamespaces)

	list, err := ns.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, "company.open", list[0].Namespace)
	require.Equal(t, "company.payroll", list[1].Namespace)
}

func testNamespaceAbsent(t *testing.T, s store.Store) {
	_, err := s.Namespaces().Get(t.Context(), "nobody")
	require.ErrorIs(t, err, store.ErrNotFound)
}
