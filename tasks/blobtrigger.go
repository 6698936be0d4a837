package tasks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/worker"
)

// pBlobTrigger polls a container and starts an execution when blobs match
// (io.kestra.plugin.azure.storage.blob.Trigger).
const pBlobTrigger = pAzureBlob + "Trigger"

// BlobTrigger is the properties of a blob.Trigger: the blobs to watch,
// how often, and what becomes of them once an execution has them.
type BlobTrigger struct {
	azureConn
	blobSelect
	Interval string `json:"interval"`
	Action   string `json:"action"`
	MoveTo   *struct {
		Container string `json:"container"`
		Name      string `json:"name"`
	} `json:"moveTo"`
}

func decodeBlobTrigger(tr *flow.Trigger) (*BlobTrigger, []*flow.Error) {
	props := make(map[string]any, len(tr.Props))
	for k, v := range tr.Props {
		props[k] = v
	}
	for _, k := range triggerOnlyProps {
		delete(props, k)
	}
	t := &flow.Task{ID: tr.ID, Type: tr.Type, Props: props}
	x := &BlobTrigger{}
	if errs := decode(t, x); len(errs) > 0 {
		return nil, errs
	}
	var errs []*flow.Error
	if x.Endpoint == "" && x.ConnectionString == "" {
		errs = append(errs, &flow.Error{Path: "endpoint", Message: `property "endpoint" is required`})
	}
	if x.Container == "" {
		errs = append(errs, &flow.Error{Path: "container", Message: `property "container" is required`})
	}
	switch strings.ToUpper(x.Action) {
	case "DELETE", "NONE":
	case "MOVE":
		if x.MoveTo == nil {
			errs = append(errs, &flow.Error{Path: "moveTo", Message: "action MOVE needs moveTo"})
		}
	default:
		errs = append(errs, &flow.Error{Path: "action", Message: fmt.Sprintf("action %q: use DELETE, MOVE or NONE (NONE starts an execution at every poll while the blobs remain)", x.Action)})
	}
	if x.Interval != "" {
		if d, err := flow.ParseDuration(x.Interval); err != nil || d < time.Second {
			errs = append(errs, &flow.Error{Path: "interval", Message: fmt.Sprintf("interval %q must be an ISO 8601 duration of at least PT1S", x.Interval)})
		}
	}
	return x, errs
}

// BlobPoller evaluates blob.Trigger triggers for the scheduler: matching
// blobs are downloaded into internal storage (trigger.blobs[].uri), then
// deleted or moved so the next poll does not see them again.
type BlobPoller struct {
	Renderer worker.Renderer
	Storage  storage.Storage
	Azure    *AzureHost
	Log      *slog.Logger
}

// Handles reports whether typ is a trigger BlobPoller polls.
func (p BlobPoller) Handles(typ string) bool { return typ == pBlobTrigger }

// Interval is how often tr is polled.
func (p BlobPoller) Interval(tr *flow.Trigger) (time.Duration, error) {
	x, errs := decodeBlobTrigger(tr)
	if len(errs) > 0 {
		return 0, flow.Errors(errs)
	}
	return pollInterval(x.Interval)
}

// Poll lists the container once. Secrets the connection resolves are
// masked in what it returns.
func (p BlobPoller) Poll(ctx context.Context, tr *flow.Trigger, vars map[string]any) (bool, map[string]any, error) {
	return maskedPoll(ctx, func(ctx context.Context) (bool, map[string]any, error) { return p.poll(ctx, tr, vars) })
}

func (p BlobPoller) poll(ctx context.Context, tr *flow.Trigger, vars map[string]any) (bool, map[string]any, error) {
	x, errs := decodeBlobTrigger(tr)
	if len(errs) > 0 {
		return false, nil, flow.Errors(errs)
	}
	if p.Storage == nil {
		return false, nil, errors.New("no internal storage to keep the blobs in")
	}
	x.host = p.Azure
	env := &pollEnv{r: p.Renderer, vars: vars, log: p.Log, trigger: tr.ID}
	c, err := x.client(ctx, env)
	if err != nil {
		return false, nil, err
	}
	cont, blobs, err := x.list(ctx, env, c)
	if err != nil || len(blobs) == 0 {
		return false, nil, err
	}
	ns, flowID := "", ""
	if f, ok := vars["flow"].(map[string]any); ok {
		ns, _ = f["namespace"].(string)
		flowID, _ = f["id"].(string)
	}
	// The files belong to the execution the poll starts, which does not
	// exist yet: they go under the trigger's own directory of the flow,
	// which the execution may read (they are its trigger variables).
	f := &execFiles{st: p.Storage, dir: storage.NamespacePath(ns) + "/" + flowID + "/triggers/" + tr.ID + "/" + fileName("")}
	var out []any
	for _, b := range blobs {
		name := b["name"].(string)
		d, err := downloadBlob(ctx, c, f, cont, name)
		if err != nil {
			return false, nil, err
		}
		switch strings.ToUpper(x.Action) {
		case "DELETE":
			if _, err := c.Service.DeleteBlob(ctx, cont, name, nil); err != nil {
				return false, nil, azureErr(c, "delete "+name, cont, err)
			}
		case "MOVE":
			toCont, prefix, err := renderPair(ctx, env, x.MoveTo.Container, x.MoveTo.Name)
			if err != nil {
				return false, nil, fmt.Errorf("moveTo: %w", err)
			}
			if toCont == "" {
				toCont = cont
			}
			if err := copyBlob(ctx, c, cont, name, toCont, strings.TrimSuffix(prefix, "/")+"/"+name, true); err != nil {
				return false, nil, err
			}
		}
		out = append(out, d)
	}
	return true, map[string]any{"blobs": out}, nil
}

// Pollers gives the scheduler every polling trigger: http.Trigger and
// blob.Trigger.
type Pollers struct {
	HTTP HTTPPoller
	Blob BlobPoller
}

// Handles reports whether typ is a polling trigger.
func (p Pollers) Handles(typ string) bool { return p.HTTP.Handles(typ) || p.Blob.Handles(typ) }

// Interval is how often tr is polled.
func (p Pollers) Interval(tr *flow.Trigger) (time.Duration, error) {
	if p.Blob.Handles(tr.Type) {
		return p.Blob.Interval(tr)
	}
	return p.HTTP.Interval(tr)
}

// Poll checks tr once.
func (p Pollers) Poll(ctx context.Context, tr *flow.Trigger, vars map[string]any) (bool, map[string]any, error) {
	if p.Blob.Handles(tr.Type) {
		return p.Blob.Poll(ctx, tr, vars)
	}
	return p.HTTP.Poll(ctx, tr, vars)
}
