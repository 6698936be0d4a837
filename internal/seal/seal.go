// Package seal encrypts short values at rest with AES-256-GCM, the one
// sealing set-up Osprey has: SECRET-type execution inputs are stored sealed
// and opened only by the worker that runs a task, in memory; the embedded
// secrets backend seals every value before it reaches the database.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// Type marks a sealed value inside an execution's inputs, as Kestra marks
// its encrypted strings.
const Type = "io.kestra.datatype:aes_encrypted"

// Box seals and opens values with one key. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
	aad  []byte
}

// New returns a Box for a 32-byte key; purpose binds ciphertexts to their
// use, so a sealed input cannot be replayed as something else.
func New(key []byte, purpose string) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("seal key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("create AES cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("create GCM: %w", err)
	}
	return &Box{aead: aead, aad: []byte(purpose)}, nil
}

// DeriveKey turns a configured key into 32 bytes: a base64 value of exactly
// 32 bytes is used as is (openssl rand -base64 32); any other string of at
// least 32 characters goes through HKDF-SHA256. The HKDF label is fixed:
// changing it would make every stored value unreadable.
func DeriveKey(configured string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(configured); err == nil && len(b) == 32 {
		return b, nil
	}
	if len(configured) < 32 {
		return nil, fmt.Errorf("the key has %d characters; use at least 32, e.g. the output of openssl rand -base64 32", len(configured))
	}
	return hkdf.Key(sha256.New, []byte(configured), nil, "osprey embedded secrets v1", 32)
}

// Seal encrypts plain and returns base64(nonce || ciphertext), bound to the
// box's purpose.
func (b *Box) Seal(plain string) string {
	return base64.StdEncoding.EncodeToString(b.SealBytes([]byte(plain), b.aad))
}

// SealBytes encrypts plain under a fresh random nonce and returns nonce ||
// ciphertext, bound to aad: opening it with other additional data fails,
// so a value copied onto another name does not open under that name.
func (b *Box) SealBytes(plain, aad []byte) []byte {
	n := b.aead.NonceSize()
	nonce := make([]byte, n, n+len(plain)+b.aead.Overhead())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24+)
	return b.aead.Seal(nonce, nonce, plain, aad)
}

// OpenBytes decrypts a value made by SealBytes with the same aad.
func (b *Box) OpenBytes(sealed, aad []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, ErrOpen
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// ErrOpen is returned for a value that is not a ciphertext of this key.
var ErrOpen = errors.New("cannot open sealed value: wrong key or corrupted value")

// Open decrypts a value made by Seal.
func (b *Box) Open(sealed string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", ErrOpen
	}
	plain, err := b.OpenBytes(raw, b.aad)
	if err != nil {
		return "", err
	}
	return string(plain), nil
}

// Wrap returns the marker stored in place of a sealed input.
func (b *Box) Wrap(plain string) map[string]any {
	return map[string]any{"type": Type, "value": b.Seal(plain)}
}

// Unwrap opens v when it is a marker made by Wrap; ok is false for any
// other value.
func (b *Box) Unwrap(v any) (plain string, ok bool, err error) {
	typ, _ := field(v, "type")
	if typ != Type {
		return "", false, nil
	}
	val, _ := field(v, "value")
	s, _ := val.(string)
	plain, err = b.Open(s)
	return plain, true, err
}

// field reads key k of a map: a Go map, or a map read back from JSON with
// its order kept (any type with Get, so that this leaf imports nothing).
func field(v any, k string) (any, bool) {
	switch m := v.(type) {
	case map[string]any:
		e, ok := m[k]
		return e, ok
	case interface{ Get(string) (any, bool) }:
		return m.Get(k)
	}
	return nil, false
}
