// Package seal encrypts short values at rest with AES-256-GCM: SECRET-type
// execution inputs are stored sealed and opened only by the worker that
// runs a task, in memory.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
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

// Seal encrypts plain and returns base64(nonce || ciphertext).
func (b *Box) Seal(plain string) string {
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := b.aead.Seal(nonce, nonce, []byte(plain), b.aad)
	return base64.StdEncoding.EncodeToString(out)
}

// ErrOpen is returned for a value that is not a ciphertext of this key.
var ErrOpen = errors.New("cannot open sealed value: wrong key or corrupted value")

// Open decrypts a value made by Seal.
func (b *Box) Open(sealed string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", ErrOpen
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], b.aad)
	if err != nil {
		return "", ErrOpen
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
	m, isMap := v.(map[string]any)
	if !isMap || m["type"] != Type {
		return "", false, nil
	}
	s, _ := m["value"].(string)
	plain, err = b.Open(s)
	return plain, true, err
}
