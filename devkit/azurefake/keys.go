package azurefake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"sync"

	"github.com/golang-jwt/jwt/v5"
)

// signer is an RSA key that signs RS256 tokens and publishes itself as a JWK.
type signer struct {
	key *rsa.PrivateKey
	kid string
}

// processKeys are the two RSA keys (Entra's and the issuer's) every emulator
// of the process signs with. Generating 2048-bit keys costs a few hundred
// milliseconds on a small machine, and a test suite starts dozens of
// emulators; tokens still never cross emulators, because each checks the
// issuer URL and tenant, which are unique per emulator. The keys are never
// modified after creation.
var processKeys = sync.OnceValues(func() ([2]*signer, error) {
	var out [2]*signer
	for i := range out {
		s, err := newSigner()
		if err != nil {
			return out, err
		}
		out[i] = s
	}
	return out, nil
})

func newSigner() (*signer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate rsa key: %w", err)
	}
	der := key.PublicKey.N.Bytes()
	sum := sha256.Sum256(der)
	return &signer{key: key, kid: base64.RawURLEncoding.EncodeToString(sum[:16])}, nil
}

func (s *signer) sign(claims jwt.MapClaims) (string, error) {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = s.kid
	out, err := tok.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return out, nil
}

// jwk is one entry of a JSON Web Key Set.
type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func (s *signer) jwk() jwk {
	return jwk{
		Kty: "RSA", Use: "sig", Kid: s.kid, Alg: "RS256",
		N: base64.RawURLEncoding.EncodeToString(s.key.PublicKey.N.Bytes()),
		E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(s.key.PublicKey.E)).Bytes()),
	}
}

// verify checks an RS256 signature against this key only. Time claims are
// left to the caller, which checks them against the emulator's clock.
func (s *signer) verify(token string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != s.kid {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		return &s.key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	if err != nil {
		return nil, err
	}
	return claims, nil
}

// unverified decodes a token's claims without checking anything, to route it
// (find its issuer) before its signature can be checked.
func unverified(token string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		return nil, err
	}
	return claims, nil
}

// numericTime reads a NumericDate claim; ok is false when absent.
func numericTime(c jwt.MapClaims, name string) (int64, bool) {
	switch v := c[name].(type) {
	case float64:
		return int64(v), true
	case int64:
		return v, true
	}
	return 0, false
}

// audiences reads "aud" as a list whether it is a string or an array.
func audiences(c jwt.MapClaims) []string {
	switch v := c["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, a := range v {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
