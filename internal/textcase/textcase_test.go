package textcase

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTransforms(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, title, capitalize, slug string }{
		{"hello world", "Hello World", "Hello world", "hello-world"},
		{"  été à Zürich", "  Été À Zürich", "  Été à Zürich", "ete-a-zurich"},
		{"", "", "", ""},
		{"Déjà_Vu--42", "Déjà_Vu--42", "Déjà_Vu--42", "deja-vu-42"},
		// Invalid UTF-8 is kept byte for byte, never widened or cut.
		{"\xff\xfeab c", "\xff\xfeab C", "\xff\xfeab c", "ab-c"},
		{" \xe2\x82", " \xe2\x82", " \xe2\x82", ""},
	}
	for _, c := range cases {
		require.Equal(t, c.title, Title(c.in), c.in)
		require.Equal(t, c.capitalize, Capitalize(c.in), c.in)
		require.Equal(t, c.slug, Slugify(c.in), c.in)
	}
}
