package secrets

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAccessCheckRead(t *testing.T) {
	t.Parallel()
	a := &Access{
		Static: map[string][]string{"company.payroll": {"company.hr"}},
		Lister: func(_ context.Context, ns string) ([]string, error) {
			switch ns {
			case "company.payroll":
				return []string{"company.finance"}, nil
			case "broken":
				return nil, errors.New("store down")
			}
			return nil, nil
		},
	}
	tests := []struct {
		name, owner, reader string
		denied              bool
	}{
		{"no rule: everyone may read", "company.open", "company.marketing", false},
		{"own namespace", "company.payroll", "company.payroll", false},
		{"a child reads its parent", "company.payroll", "company.payroll.jobs", false},
		{"configured reader", "company.payroll", "company.hr", false},
		{"a child of a configured reader", "company.payroll", "company.hr.onboarding", false},
		{"reader set through the API", "company.payroll", "company.finance", false},
		{"anyone else is denied", "company.payroll", "company.marketing", true},
		{"a parent is another namespace", "company.payroll", "company", true},
		{"a rule covers children without one", "company.payroll.eu", "company.marketing", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := a.CheckRead(t.Context(), tc.owner, tc.reader)
			if !tc.denied {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrDenied)
			require.Equal(t, "secret read denied: namespace "+tc.owner+" does not allow namespace "+tc.reader+" to read its secrets (allowedNamespaces)", err.Error())
		})
	}
	require.ErrorContains(t, a.CheckRead(t.Context(), "broken", "x"), "store down")
	var none *Access
	require.NoError(t, none.CheckRead(t.Context(), "a", "b"), "no Access: Kestra's default")
}
