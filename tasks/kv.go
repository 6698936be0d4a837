package tasks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/kv"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/worker"
)

// Kestra's KV tasks (io.kestra.plugin.core.kv.*): they read and write the
// key-value entries of a namespace, the flow's own unless one is named.

// kvRef is what every KV task names: an entry, or a namespace.
type kvRef struct {
	Namespace string `json:"namespace"`
	Key       string `json:"key"`
}

// resolve renders the namespace (default: the flow's) and the key.
func (r kvRef) resolve(ctx context.Context, rc *worker.RunContext, needKey bool) (ns, key string, st store.KVStore, err error) {
	if rc.KV == nil {
		return "", "", nil, errors.New("no key-value store is available to this worker")
	}
	if ns, err = rc.Render(ctx, r.Namespace); err != nil {
		return "", "", nil, fmt.Errorf("namespace: %w", err)
	}
	if ns == "" {
		f, _ := rc.Vars["flow"].(map[string]any)
		ns, _ = f["namespace"].(string)
	}
	if key, err = rc.Render(ctx, r.Key); err != nil {
		return "", "", nil, fmt.Errorf("key: %w", err)
	}
	if needKey {
		if err := kv.CheckKey(key); err != nil {
			return "", "", nil, err
		}
	}
	return ns, key, rc.KV, nil
}

// KVSet writes an entry (core.kv.Set).
type KVSet struct {
	kvRef
	Value       any    `json:"value"`
	Overwrite   *bool  `json:"overwrite"`
	TTL         string `json:"ttl"`
	KVType      string `json:"kvType"`
	Description string `json:"kvDescription"`
}

// Run implements worker.Runnable.
func (x *KVSet) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	ns, key, st, err := x.resolve(ctx, rc, true)
	if err != nil {
		return nil, err
	}
	v := x.Value
	if s, ok := v.(string); ok {
		// a lone expression keeps its type: {{ outputs.x.values }} stays a map
		if v, err = rc.RenderTyped(ctx, s); err != nil {
			return nil, fmt.Errorf("value: %w", err)
		}
	} else if v, err = rc.RenderValue(ctx, v); err != nil {
		return nil, fmt.Errorf("value: %w", err)
	}
	typ, raw, err := kv.Encode(v, x.KVType)
	if err != nil {
		return nil, fmt.Errorf("KV %s/%s: %w", ns, key, err)
	}
	if rc.HoldsSecret(string(raw)) {
		return nil, fmt.Errorf("KV %s/%s: the value holds a secret, and KV values are stored in clear: keep it in the secret manager and call secret() where it is needed", ns, key)
	}
	rec := store.KVRecord{Namespace: ns, Key: key, Type: typ, Value: raw, Description: x.Description}
	if x.TTL != "" {
		ttl, err := rc.Render(ctx, x.TTL)
		if err != nil {
			return nil, fmt.Errorf("ttl: %w", err)
		}
		d, err := flow.ParseDuration(ttl)
		if err != nil {
			return nil, fmt.Errorf("ttl: %w", err)
		}
		exp := time.Now().UTC().Add(d)
		rec.Expires = &exp
	}
	if x.Overwrite != nil && !*x.Overwrite {
		if _, err := st.Get(ctx, ns, key); err == nil {
			return nil, fmt.Errorf("KV %s/%s already exists and overwrite is false", ns, key)
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if err := st.Put(ctx, rec); err != nil {
		return nil, err
	}
	return nil, nil
}

// KVGet reads an entry (core.kv.Get): outputs.value, null when missing
// unless errorOnMissing.
type KVGet struct {
	kvRef
	ErrorOnMissing bool `json:"errorOnMissing"`
}

// Run implements worker.Runnable.
func (x *KVGet) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	ns, key, st, err := x.resolve(ctx, rc, true)
	if err != nil {
		return nil, err
	}
	v, found, err := kv.Get(ctx, st, ns, key)
	if err != nil {
		return nil, err
	}
	if !found && x.ErrorOnMissing {
		return nil, fmt.Errorf("KV %s/%s does not exist (or it expired)", ns, key)
	}
	return map[string]any{"value": v}, nil
}

// KVDelete removes an entry (core.kv.Delete): outputs.deleted.
type KVDelete struct {
	kvRef
	ErrorOnMissing bool `json:"errorOnMissing"`
}

// Run implements worker.Runnable.
func (x *KVDelete) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	ns, key, st, err := x.resolve(ctx, rc, true)
	if err != nil {
		return nil, err
	}
	err = st.Delete(ctx, ns, key)
	switch {
	case errors.Is(err, store.ErrNotFound) && x.ErrorOnMissing:
		return nil, fmt.Errorf("KV %s/%s does not exist (or it expired)", ns, key)
	case errors.Is(err, store.ErrNotFound):
		return map[string]any{"deleted": false}, nil
	case err != nil:
		return nil, err
	}
	return map[string]any{"deleted": true}, nil
}

// KVGetKeys lists the keys of a namespace (core.kv.GetKeys):
// outputs.keys, those starting with prefix when it is set.
type KVGetKeys struct {
	kvRef
	Prefix string `json:"prefix"`
}

// Run implements worker.Runnable.
func (x *KVGetKeys) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	ns, _, st, err := x.resolve(ctx, rc, false)
	if err != nil {
		return nil, err
	}
	prefix, err := rc.Render(ctx, x.Prefix)
	if err != nil {
		return nil, fmt.Errorf("prefix: %w", err)
	}
	list, err := st.List(ctx, ns)
	if err != nil {
		return nil, err
	}
	keys := []any{}
	for _, r := range list {
		if strings.HasPrefix(r.Key, prefix) {
			keys = append(keys, r.Key)
		}
	}
	return map[string]any{"keys": keys}, nil
}

func kvSpecs() []*Spec {
	const p = "io.kestra.plugin.core.kv."
	ref := []string{"namespace", "key"}
	return []*Spec{
		runnable[KVSet](p+"Set", append(ref, "value", "overwrite", "ttl", "kvType", "kvDescription"), func(t *flow.Task, x *KVSet) []*flow.Error {
			return append(required(t, "key", x.Key != ""), required(t, "value", x.Value != nil)...)
		}),
		runnable[KVGet](p+"Get", append(ref, "errorOnMissing"), func(t *flow.Task, x *KVGet) []*flow.Error {
			return required(t, "key", x.Key != "")
		}),
		runnable[KVDelete](p+"Delete", append(ref, "errorOnMissing"), func(t *flow.Task, x *KVDelete) []*flow.Error {
			return required(t, "key", x.Key != "")
		}),
		runnable[KVGetKeys](p+"GetKeys", []string{"namespace", "prefix"}, nil),
	}
}
