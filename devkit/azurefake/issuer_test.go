package azurefake_test

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/azurefake"
)

func getJSON(t *testing.T, emu *azurefake.Emulator, url string, into any) {
	t.Helper()
	resp, err := emu.HTTPClient().Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(into))
}

func TestIssuerPublishesKeysThatVerifyItsTokens(t *testing.T) {
	t.Parallel()
	emu := azurefake.Start(t)
	iss := emu.Issuer().URL()
	require.True(t, strings.HasSuffix(iss, "/"), "AKS issuer URLs end with a slash")

	var cfg struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	getJSON(t, emu, iss+".well-known/openid-configuration", &cfg)
	require.Equal(t, iss, cfg.Issuer)
	require.Equal(t, iss+"openid/v1/jwks", cfg.JWKSURI)
	var set struct {
		Keys []struct{ Kid, N, E, Kty, Alg string }
	}
	getJSON(t, emu, cfg.JWKSURI, &set)
	require.Len(t, set.Keys, 1)
	k := set.Keys[0]
	pub := rsaKey(t, k.N, k.E)

	m, err := emu.Issuer().Mint(azurefake.MintOptions{Namespace: "team-a", ServiceAccount: "runner", Lifetime: 10 * time.Second})
	require.NoError(t, err)
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(m.Token, claims, func(tok *jwt.Token) (any, error) {
		require.Equal(t, k.Kid, tok.Header["kid"])
		return pub, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	require.NoError(t, err)
	require.True(t, tok.Valid)
	require.Equal(t, iss, claims["iss"])
	require.Equal(t, "system:serviceaccount:team-a:runner", claims["sub"])
	require.Equal(t, []any{"api://AzureADTokenExchange"}, claims["aud"])
	require.Equal(t, claims["iat"], claims["nbf"])
	require.Equal(t, float64(10), claims["exp"].(float64)-claims["iat"].(float64), "lifetime settable down to seconds")
	kube := claims["kubernetes.io"].(map[string]any)
	require.Equal(t, "team-a", kube["namespace"])
	require.Equal(t, "runner", kube["serviceaccount"].(map[string]any)["name"])
}

func TestTokenFileRotation(t *testing.T) {
	t.Parallel()
	emu := azurefake.Start(t, azurefake.WithClock(azurefake.NewManualClock(time.Now())))
	dir := t.TempDir()
	read := func(f *azurefake.TokenFile) string {
		b, err := os.ReadFile(f.Path())
		require.NoError(t, err)
		return string(b)
	}
	auto, err := emu.WriteTokenFile(azurefake.TokenFileOptions{
		MintOptions: azurefake.MintOptions{Namespace: "ns", ServiceAccount: "sa", Lifetime: 10 * time.Second},
		Path:        filepath.Join(dir, "auto"),
	})
	require.NoError(t, err)
	manual, err := emu.WriteTokenFile(azurefake.TokenFileOptions{
		MintOptions:  azurefake.MintOptions{Namespace: "ns", ServiceAccount: "sa", Lifetime: 10 * time.Second},
		Path:         filepath.Join(dir, "manual"),
		NoAutoRotate: true,
	})
	require.NoError(t, err)
	first, firstManual := auto.Current(), manual.Current()
	require.Equal(t, first.Token, read(auto))

	emu.Clock().Advance(7 * time.Second)
	require.Equal(t, first.ID, auto.Current().ID, "not before 80% of the lifetime")
	emu.Clock().Advance(time.Second)
	second := auto.Current()
	require.NotEqual(t, first.ID, second.ID, "rotated at 80% of the lifetime")
	require.Equal(t, second.Token, read(auto))
	require.Equal(t, emu.Clock().Now().Truncate(time.Second), second.IssuedAt)

	emu.Clock().Advance(time.Minute)
	require.Equal(t, firstManual.Token, read(manual), "automatic rotation disabled")
	require.NoError(t, manual.Rotate())
	require.NotEqual(t, firstManual.Token, read(manual))
	require.Equal(t, manual.Current().Token, read(manual))
}

// rsaKey decodes the modulus and exponent of a JWK.
func rsaKey(t *testing.T, n, e string) *rsa.PublicKey {
	t.Helper()
	nb, err := base64.RawURLEncoding.DecodeString(n)
	require.NoError(t, err)
	eb, err := base64.RawURLEncoding.DecodeString(e)
	require.NoError(t, err)
	return &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
}
