// Package kv holds the rules of Kestra's key-value store that the kv
// tasks, the kv() function and the API share: which keys are valid, which
// Kestra type a value has, how it is stored as JSON and how it reads back.
// The entries themselves live in the store (store.KVStore).
package kv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/store"
)

// The value types of Kestra's KV store (kvType).
const (
	TypeString   = "STRING"
	TypeNumber   = "NUMBER"
	TypeBoolean  = "BOOLEAN"
	TypeDateTime = "DATETIME"
	TypeDate     = "DATE"
	TypeDuration = "DURATION"
	TypeJSON     = "JSON"
)

// keyRE is Kestra's key rule: letters, digits, dots, dashes and
// underscores, starting with a letter or digit.
var keyRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*$`)

// CheckKey reports a key Kestra would refuse.
func CheckKey(key string) error {
	if len(key) > flow.MaxKey {
		return fmt.Errorf("KV key is %d characters; the limit is %d", len(key), flow.MaxKey)
	}
	if !keyRE.MatchString(key) {
		return fmt.Errorf("KV key %q is invalid: use letters, digits, '.', '-' and '_', starting with a letter or digit", key)
	}
	return nil
}

// Encode turns v into the JSON stored for type typ, inferring the type
// from v when typ is empty. A text value given for another type is read
// as that type ("42" for NUMBER, a JSON text for JSON).
func Encode(v any, typ string) (string, json.RawMessage, error) {
	typ = strings.ToUpper(typ)
	if typ == "" {
		typ = infer(v)
	}
	s, isText := v.(string)
	var out any
	switch typ {
	case TypeString:
		if !isText {
			return "", nil, fmt.Errorf("a STRING value must be text, not %s", describe(v))
		}
		out = s
	case TypeNumber:
		n, err := number(v)
		if err != nil {
			return "", nil, err
		}
		out = n
	case TypeBoolean:
		switch {
		case v == true || v == false:
			out = v
		case isText && (strings.EqualFold(s, "true") || strings.EqualFold(s, "false")):
			out = strings.EqualFold(s, "true")
		default:
			return "", nil, fmt.Errorf("a BOOLEAN value must be true or false, not %s", describe(v))
		}
	case TypeDateTime, TypeDate:
		if !isText {
			return "", nil, fmt.Errorf("a %s value must be an ISO 8601 text, not %s", typ, describe(v))
		}
		t, err := flow.ParseDateTime(s, nil)
		if err != nil {
			return "", nil, err
		}
		if typ == TypeDate {
			out = t.Format(time.DateOnly)
		} else {
			out = t.UTC().Format(time.RFC3339Nano)
		}
	case TypeDuration:
		if !isText {
			return "", nil, fmt.Errorf("a DURATION value must be an ISO 8601 duration such as PT5M, not %s", describe(v))
		}
		if _, err := flow.ParseDuration(s); err != nil {
			return "", nil, err
		}
		out = s
	case TypeJSON:
		if isText {
			// Objects keep their keys' order, as Kestra's Jackson reads them.
			var err error
			if out, err = ordered.Decode([]byte(s)); err != nil {
				return "", nil, fmt.Errorf("a JSON value given as text must be valid JSON: %w", err)
			}
		} else {
			out = v
		}
	default:
		return "", nil, fmt.Errorf("kvType %q is not one of STRING, NUMBER, BOOLEAN, DATETIME, DATE, DURATION, JSON", typ)
	}
	raw, err := json.Marshal(out)
	if err != nil {
		return "", nil, fmt.Errorf("encode KV value: %w", err)
	}
	return typ, raw, nil
}

func infer(v any) string {
	switch v.(type) {
	case string:
		return TypeString
	case bool:
		return TypeBoolean
	case int, int64, float64, json.Number:
		return TypeNumber
	}
	return TypeJSON
}

func number(v any) (any, error) {
	switch n := v.(type) {
	case int, int64:
		return n, nil
	case float64:
		if math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, fmt.Errorf("a NUMBER value must be finite")
		}
		return n, nil
	case string:
		if i, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64); err == nil {
			return i, nil
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(n), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f, nil
		}
	}
	return nil, fmt.Errorf("a NUMBER value must be a number, not %s", describe(v))
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "text"
	case map[string]any, *ordered.Map:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", v)
}

// Decode returns the value of r as expressions and outputs see it: text,
// numbers (integers stay integers), booleans, objects and lists.
func Decode(r store.KVRecord) (any, error) {
	var v any
	if err := flow.DecodeJSON(r.Value, &v); err != nil {
		return nil, fmt.Errorf("read KV %s/%s: %w", r.Namespace, r.Key, err)
	}
	return v, nil
}

// Reader is the part of the store kv reads from.
type Reader interface {
	Get(ctx context.Context, namespace, key string) (store.KVRecord, error)
}

// Get reads the value of key in namespace; found is false when there is
// none (or it expired).
func Get(ctx context.Context, r Reader, namespace, key string) (v any, found bool, err error) {
	if err := CheckKey(key); err != nil {
		return nil, false, err
	}
	rec, err := r.Get(ctx, namespace, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	v, err = Decode(rec)
	return v, err == nil, err
}
