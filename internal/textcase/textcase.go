// Package textcase holds the case and slug transforms of Osprey's
// expression filters (title, capitalize, slugify), shared with the masker
// so that a secret passed through one of them is still recognised.
package textcase

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Title upper-cases the first letter of every word, as Pebble's title.
func Title(s string) string {
	var b strings.Builder
	next := true
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && w == 1:
			b.WriteByte(s[i]) // an invalid byte is kept as it is
			next = false
			i++
			continue
		case unicode.IsSpace(r):
			next = true
		case next:
			r = unicode.ToTitle(r)
			next = false
		}
		b.WriteRune(r)
		i += w
	}
	return b.String()
}

// Capitalize upper-cases the first letter, as Pebble's capitalize.
func Capitalize(s string) string {
	for i := 0; i < len(s); {
		// The width comes from decoding, not from the rune: an invalid
		// byte decodes to RuneError (1 byte wide, 3 bytes as a rune).
		r, w := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			i += w
			continue
		}
		if r == utf8.RuneError && w == 1 {
			return s // an invalid byte has no upper case; keep it as it is
		}
		return s[:i] + string(unicode.ToTitle(r)) + s[i+w:]
	}
	return s
}

var slugFold = strings.NewReplacer(
	"à", "a", "á", "a", "â", "a", "ã", "a", "ä", "a", "å", "a", "æ", "ae", "ç", "c",
	"è", "e", "é", "e", "ê", "e", "ë", "e", "ì", "i", "í", "i", "î", "i", "ï", "i",
	"ñ", "n", "ò", "o", "ó", "o", "ô", "o", "õ", "o", "ö", "o", "ø", "o", "œ", "oe",
	"ù", "u", "ú", "u", "û", "u", "ü", "u", "ý", "y", "ÿ", "y", "ß", "ss",
)

// Slugify lower-cases, folds common accents and joins words with "-".
func Slugify(s string) string {
	s = slugFold.Replace(strings.ToLower(s))
	var b strings.Builder
	dash := false
	for _, r := range s {
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return b.String()
}
