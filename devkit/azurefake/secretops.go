package azurefake

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The secret operations proper, each run after Vault.op has authenticated,
// throttled, validated and authorised the request.

type attributesParams struct {
	Enabled   *bool  `json:"enabled"`
	NotBefore *int64 `json:"nbf"`
	Expires   *int64 `json:"exp"`
}

type secretParams struct {
	Value       *string           `json:"value"`
	ContentType *string           `json:"contentType"`
	Attributes  *attributesParams `json:"attributes"`
	Tags        map[string]string `json:"tags"`
}

func decodeParams(c *call) (secretParams, *kvError) {
	var p secretParams
	if err := json.NewDecoder(c.r.Body).Decode(&p); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return p, &kvError{status: http.StatusRequestEntityTooLarge, code: "BadParameter", msg: "The request body is too large."}
		}
		return p, badParameter("The request body is not valid JSON: " + err.Error())
	}
	if p.ContentType != nil && len(*p.ContentType) > maxContentTypeLen {
		return p, badParameter(fmt.Sprintf("Property contentType is too long: maximum length is %d characters.", maxContentTypeLen))
	}
	if len(p.Tags) > maxTags {
		return p, badParameter(fmt.Sprintf("Too many tags: a maximum of %d tags are allowed.", maxTags))
	}
	for k, val := range p.Tags {
		if len(k) > maxTagNameLen || len(val) > maxTagValueLen {
			return p, badParameter(fmt.Sprintf("Tag names and values are limited to %d and %d characters.", maxTagNameLen, maxTagValueLen))
		}
	}
	return p, nil
}

func (v *Vault) setSecret(c *call) (int, any, *kvError) {
	p, err := decodeParams(c)
	if err != nil {
		return 0, nil, err
	}
	if p.Value == nil {
		return 0, nil, badParameter("Property 'value' is required.")
	}
	if len(*p.Value) > maxValueBytes {
		return 0, nil, badParameter(fmt.Sprintf("Secret value is too large: the maximum size is %d bytes.", maxValueBytes))
	}
	sv := &secretVersion{
		version: newVersionID(), value: *p.Value, contentType: p.ContentType, tags: p.Tags,
		enabled: true, created: c.now.Unix(), updated: c.now.Unix(),
	}
	if a := p.Attributes; a != nil {
		if a.Enabled != nil {
			sv.enabled = *a.Enabled
		}
		sv.nbf, sv.exp = a.NotBefore, a.Expires
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.lookup(c.name, c.now)
	switch {
	case s == nil:
		s = &secretEntry{name: c.name}
		v.secrets[lower(c.name)] = s
	case s.state != stateActive:
		return 0, nil, stateConflict(s)
	}
	s.versions = append(s.versions, sv)
	return http.StatusOK, v.bundle(s, sv, true), nil
}

func (v *Vault) getSecret(c *call) (int, any, *kvError) {
	if strings.Contains(c.version, "/") {
		return 0, nil, badParameter("The request URI contains an invalid version: " + c.version)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.lookup(c.name, c.now)
	if s == nil || s.state != stateActive {
		return 0, nil, secretNotFound(c.name)
	}
	sv := s.version(c.version)
	if sv == nil {
		return 0, nil, secretNotFound(c.name + "/" + c.version)
	}
	if err := usable(sv, c.now); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, v.bundle(s, sv, true), nil
}

// usable enforces a version's enabled flag and its nbf/exp window, which
// Key Vault applies to reading a secret's value.
func usable(sv *secretVersion, now time.Time) *kvError {
	forbidden := func(msg string) *kvError {
		return &kvError{status: http.StatusForbidden, code: "Forbidden", inner: "SecretDisabled", msg: msg}
	}
	switch {
	case !sv.enabled:
		return forbidden("Operation get is not allowed on a disabled secret.")
	case sv.nbf != nil && now.Unix() < *sv.nbf:
		return forbidden("Operation get is not allowed on a secret that is not yet valid (nbf is in the future).")
	case sv.exp != nil && now.Unix() >= *sv.exp:
		return forbidden("Operation get is not allowed on an expired secret.")
	}
	return nil
}

func (v *Vault) updateSecret(c *call) (int, any, *kvError) {
	p, err := decodeParams(c)
	if err != nil {
		return 0, nil, err
	}
	if p.Value != nil {
		return 0, nil, badParameter("Property 'value' cannot be updated; set a new version instead.")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.lookup(c.name, c.now)
	if s == nil || s.state != stateActive {
		return 0, nil, secretNotFound(c.name)
	}
	sv := s.version(c.version)
	if sv == nil {
		return 0, nil, secretNotFound(c.name + "/" + c.version)
	}
	if p.ContentType != nil {
		sv.contentType = p.ContentType
	}
	if p.Tags != nil {
		sv.tags = p.Tags
	}
	if a := p.Attributes; a != nil {
		if a.Enabled != nil {
			sv.enabled = *a.Enabled
		}
		if a.NotBefore != nil {
			sv.nbf = a.NotBefore
		}
		if a.Expires != nil {
			sv.exp = a.Expires
		}
	}
	sv.updated = c.now.Unix()
	return http.StatusOK, v.bundle(s, sv, false), nil
}

func (v *Vault) deleteSecret(c *call) (int, any, *kvError) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.lookup(c.name, c.now)
	if s == nil {
		return 0, nil, secretNotFound(c.name)
	}
	if s.state != stateActive {
		if s.state == stateDeleted {
			return 0, nil, secretNotFound(c.name)
		}
		return 0, nil, stateConflict(s)
	}
	s.deletedAt = c.now
	s.purgeAt = c.now.Add(time.Duration(v.opts.RetentionDays) * 24 * time.Hour)
	s.state = stateDeleted
	if d := v.opts.DeleteDelay; d > 0 {
		s.state, s.readyAt = stateDeleting, c.now.Add(d)
	}
	return http.StatusOK, v.deletedBundle(s), nil
}

func (v *Vault) getDeleted(c *call) (int, any, *kvError) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.lookup(c.name, c.now)
	if s == nil || s.state != stateDeleted {
		return 0, nil, deletedNotFound(c.name)
	}
	return http.StatusOK, v.deletedBundle(s), nil
}

func (v *Vault) recoverDeleted(c *call) (int, any, *kvError) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.lookup(c.name, c.now)
	if s == nil || s.state == stateActive {
		return 0, nil, deletedNotFound(c.name)
	}
	if s.state != stateDeleted {
		return 0, nil, stateConflict(s)
	}
	s.state, s.deletedAt, s.purgeAt = stateActive, time.Time{}, time.Time{}
	if d := v.opts.RecoverDelay; d > 0 {
		s.state, s.readyAt = stateRecovering, c.now.Add(d)
	}
	return http.StatusOK, v.bundle(s, s.latest(), false), nil
}

func (v *Vault) purgeDeleted(c *call) (int, any, *kvError) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.lookup(c.name, c.now)
	if s == nil || s.state == stateActive {
		return 0, nil, deletedNotFound(c.name)
	}
	if s.state != stateDeleted {
		return 0, nil, stateConflict(s)
	}
	if v.opts.PurgeProtection {
		return 0, nil, &kvError{status: http.StatusForbidden, code: "Forbidden",
			msg: `Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.`}
	}
	if d := v.opts.PurgeDelay; d > 0 {
		s.state, s.readyAt = statePurging, c.now.Add(d)
	} else {
		delete(v.secrets, lower(c.name))
	}
	return http.StatusNoContent, nil, nil
}

func (v *Vault) listSecrets(c *call) (int, any, *kvError) {
	v.mu.Lock()
	var items []any
	for _, s := range v.sorted(c.now) {
		if s.state == stateActive {
			items = append(items, v.item(s, s.latest(), false))
		}
	}
	v.mu.Unlock()
	return page(c, v.url+"secrets", items)
}

func (v *Vault) listVersions(c *call) (int, any, *kvError) {
	v.mu.Lock()
	s := v.lookup(c.name, c.now)
	var items []any
	if s != nil && s.state == stateActive {
		for _, sv := range s.versions {
			items = append(items, v.item(s, sv, true))
		}
	}
	v.mu.Unlock()
	return page(c, v.url+"secrets/"+c.name+"/versions", items)
}

func (v *Vault) listDeleted(c *call) (int, any, *kvError) {
	v.mu.Lock()
	var items []any
	for _, s := range v.sorted(c.now) {
		if s.state == stateDeleted {
			it := v.item(s, s.latest(), false)
			it.RecoveryID = v.url + "deletedsecrets/" + s.name
			it.DeletedDate, it.ScheduledPurgeDate = unixPtr(s.deletedAt), unixPtr(s.purgeAt)
			items = append(items, it)
		}
	}
	v.mu.Unlock()
	return page(c, v.url+"deletedsecrets", items)
}

// sorted settles and returns every entry ordered by name. Callers hold v.mu.
func (v *Vault) sorted(now time.Time) []*secretEntry {
	keys := make([]string, 0, len(v.secrets))
	for k := range v.secrets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]*secretEntry, 0, len(keys))
	for _, k := range keys {
		if s := v.lookup(k, now); s != nil {
			out = append(out, s)
		}
	}
	return out
}

// page cuts one page of a listing: maxresults (1–25, default 25) items from
// the offset in $skiptoken, and a nextLink carrying the api-version.
func page(c *call, base string, items []any) (int, any, *kvError) {
	q := c.r.URL.Query()
	size := maxPageSize
	if m := q.Get("maxresults"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 || n > maxPageSize {
			return 0, nil, badParameter(fmt.Sprintf("Invalid value for maxresults: %s. It must be between 1 and %d.", m, maxPageSize))
		}
		size = n
	}
	offset := 0
	if tok := q.Get("$skiptoken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		var t struct{ Offset int }
		if err != nil || json.Unmarshal(raw, &t) != nil || t.Offset < 0 {
			return 0, nil, badParameter("The $skiptoken is not valid.")
		}
		offset = t.Offset
	}
	offset = min(offset, len(items))
	end := min(offset+size, len(items))
	body := struct {
		Value    []any   `json:"value"`
		NextLink *string `json:"nextLink"`
	}{Value: items[offset:end]}
	if body.Value == nil {
		body.Value = []any{}
	}
	if end < len(items) {
		tok, _ := json.Marshal(struct{ Offset int }{end})
		link := fmt.Sprintf("%s?api-version=%s&$skiptoken=%s", base, q.Get("api-version"), base64.RawURLEncoding.EncodeToString(tok))
		if q.Get("maxresults") != "" {
			link += "&maxresults=" + strconv.Itoa(size)
		}
		body.NextLink = &link
	}
	return http.StatusOK, body, nil
}

// attributesJSON is SecretAttributes on the wire.
type attributesJSON struct {
	Enabled         bool   `json:"enabled"`
	NotBefore       *int64 `json:"nbf,omitempty"`
	Expires         *int64 `json:"exp,omitempty"`
	Created         int64  `json:"created"`
	Updated         int64  `json:"updated"`
	RecoverableDays int    `json:"recoverableDays"`
	RecoveryLevel   string `json:"recoveryLevel"`
}

// bundleJSON is SecretBundle, DeletedSecretBundle, SecretItem and
// DeletedSecretItem on the wire (optional fields omitted when empty).
type bundleJSON struct {
	Value              *string           `json:"value,omitempty"`
	ID                 string            `json:"id"`
	ContentType        *string           `json:"contentType,omitempty"`
	Attributes         attributesJSON    `json:"attributes"`
	Tags               map[string]string `json:"tags,omitempty"`
	RecoveryID         string            `json:"recoveryId,omitempty"`
	DeletedDate        *int64            `json:"deletedDate,omitempty"`
	ScheduledPurgeDate *int64            `json:"scheduledPurgeDate,omitempty"`
}

func (v *Vault) attributes(sv *secretVersion) attributesJSON {
	return attributesJSON{
		Enabled: sv.enabled, NotBefore: sv.nbf, Expires: sv.exp, Created: sv.created, Updated: sv.updated,
		RecoverableDays: v.opts.RetentionDays, RecoveryLevel: v.recoveryLevel(),
	}
}

func (v *Vault) bundle(s *secretEntry, sv *secretVersion, withValue bool) *bundleJSON {
	b := &bundleJSON{
		ID:          v.url + "secrets/" + s.name + "/" + sv.version,
		ContentType: sv.contentType,
		Attributes:  v.attributes(sv),
		Tags:        sv.tags,
	}
	if withValue {
		val := sv.value
		b.Value = &val
	}
	return b
}

func (v *Vault) deletedBundle(s *secretEntry) *bundleJSON {
	b := v.bundle(s, s.latest(), false)
	b.RecoveryID = v.url + "deletedsecrets/" + s.name
	b.DeletedDate, b.ScheduledPurgeDate = unixPtr(s.deletedAt), unixPtr(s.purgeAt)
	return b
}

// item is a list entry: the id carries the version only in version listings.
func (v *Vault) item(s *secretEntry, sv *secretVersion, versioned bool) *bundleJSON {
	b := v.bundle(s, sv, false)
	if !versioned {
		b.ID = v.url + "secrets/" + s.name
	}
	return b
}

func unixPtr(t time.Time) *int64 {
	u := t.Unix()
	return &u
}

func lower(s string) string { return strings.ToLower(s) }
