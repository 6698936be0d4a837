package e2e

import (
	"testing"

	"github.com/ospreyhq/osprey/devkit/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
