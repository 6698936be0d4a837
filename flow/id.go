package flow

import (
	"crypto/rand"
	"math/big"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewID returns a random 22-character base62 identifier, the form Kestra
// gives executions and task runs.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	n := new(big.Int).SetBytes(b[:])
	out := make([]byte, 22)
	mod := new(big.Int)
	base := big.NewInt(62)
	for i := 21; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = base62[mod.Int64()]
	}
	return string(out)
}
