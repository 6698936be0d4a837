package azurefake

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
)

// Backups are sealed with a key of the emulator (AES-GCM), so, as with Key
// Vault, a blob restores only where it was made and reveals nothing.

type backupVersion struct {
	Version     string            `json:"version"`
	Value       string            `json:"value"`
	ContentType *string           `json:"contentType,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	Enabled     bool              `json:"enabled"`
	NotBefore   *int64            `json:"nbf,omitempty"`
	Expires     *int64            `json:"exp,omitempty"`
	Created     int64             `json:"created"`
	Updated     int64             `json:"updated"`
}

type backupBlob struct {
	Name     string          `json:"name"`
	Versions []backupVersion `json:"versions"`
}

func (e *Emulator) backupAEAD() (cipher.AEAD, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.backupKey == nil {
		e.backupKey = make([]byte, 32)
		if _, err := rand.Read(e.backupKey); err != nil {
			return nil, fmt.Errorf("generate backup key: %w", err)
		}
	}
	block, err := aes.NewCipher(e.backupKey)
	if err != nil {
		return nil, fmt.Errorf("backup cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

func (v *Vault) backupSecret(c *call) (int, any, *kvError) {
	v.mu.Lock()
	s := v.lookup(c.name, c.now)
	if s == nil || s.state != stateActive {
		v.mu.Unlock()
		return 0, nil, secretNotFound(c.name)
	}
	blob := backupBlob{Name: s.name}
	for _, sv := range s.versions {
		blob.Versions = append(blob.Versions, backupVersion{
			Version: sv.version, Value: sv.value, ContentType: sv.contentType, Tags: sv.tags, Enabled: sv.enabled,
			NotBefore: sv.nbf, Expires: sv.exp, Created: sv.created, Updated: sv.updated,
		})
	}
	v.mu.Unlock()
	plain, err := json.Marshal(blob)
	if err != nil {
		return 0, nil, &kvError{status: http.StatusInternalServerError, code: "InternalError", msg: "backup failed"}
	}
	aead, err := v.e.backupAEAD()
	if err != nil {
		return 0, nil, &kvError{status: http.StatusInternalServerError, code: "InternalError", msg: "backup failed"}
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := aead.Seal(nonce, nonce, plain, []byte("azurefake-backup"))
	return http.StatusOK, map[string]string{"value": base64.RawURLEncoding.EncodeToString(sealed)}, nil
}

func (v *Vault) restoreSecret(c *call) (int, any, *kvError) {
	var p struct {
		Value string `json:"value"`
	}
	if err := json.NewDecoder(c.r.Body).Decode(&p); err != nil || p.Value == "" {
		return 0, nil, badParameter("Property 'value' (the backup blob) is required.")
	}
	corrupt := badParameter("Backup blob is corrupt or was not created by this service.")
	sealed, err := base64.RawURLEncoding.DecodeString(p.Value)
	if err != nil {
		return 0, nil, corrupt
	}
	aead, err := v.e.backupAEAD()
	if err != nil || len(sealed) < aead.NonceSize() {
		return 0, nil, corrupt
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte("azurefake-backup"))
	if err != nil {
		return 0, nil, corrupt
	}
	var blob backupBlob
	if err := json.Unmarshal(plain, &blob); err != nil || len(blob.Versions) == 0 {
		return 0, nil, corrupt
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if s := v.lookup(blob.Name, c.now); s != nil {
		if s.state == stateActive {
			return 0, nil, conflict("", fmt.Sprintf("Secret %s already exists.", s.name))
		}
		return 0, nil, stateConflict(s)
	}
	s := &secretEntry{name: blob.Name}
	for _, b := range blob.Versions {
		s.versions = append(s.versions, &secretVersion{
			version: b.Version, value: b.Value, contentType: b.ContentType, tags: b.Tags, enabled: b.Enabled,
			nbf: b.NotBefore, exp: b.Expires, created: b.Created, updated: b.Updated,
		})
	}
	v.secrets[lower(blob.Name)] = s
	return http.StatusOK, v.bundle(s, s.latest(), false), nil
}
