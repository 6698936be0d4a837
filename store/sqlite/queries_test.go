package sqlite

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/store/internal/sqlfile"
)

// TestEmbeddedQueriesParse guards the embedded file itself.
func TestEmbeddedQueriesParse(t *testing.T) {
	qs, err := sqlfile.Parse(queriesSQL)
	require.NoError(t, err)
	require.Contains(t, qs, "execClaim")
	require.Contains(t, qs, "jobClaim")
}
