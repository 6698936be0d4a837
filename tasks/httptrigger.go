package tasks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/mask"
	"github.com/ospreyhq/osprey/worker"
)

// pHTTPTrigger polls a URL and starts an execution when its response
// meets a condition (io.kestra.plugin.core.http.Trigger).
const pHTTPTrigger = "io.kestra.plugin.core.http.Trigger"

// defaultPollInterval is Kestra's interval for polling triggers.
const defaultPollInterval = 60 * time.Second

// pollInterval reads a polling trigger's interval, Kestra's default when
// it is not set.
func pollInterval(s string) (time.Duration, error) {
	if s == "" {
		return defaultPollInterval, nil
	}
	return flow.ParseDuration(s)
}

// maskedPoll runs one poll with a masker of its own: the secrets the poll
// resolves (a token in a URI or header, a connection string) are learnt
// there and masked in its error and in the trigger variables, which are
// stored with the execution the poll starts.
func maskedPoll(ctx context.Context, poll func(context.Context) (bool, map[string]any, error)) (bool, map[string]any, error) {
	var m mask.Masker
	fire, tv, err := poll(mask.NewContext(ctx, &m))
	if err != nil {
		return false, nil, errors.New(m.Mask(err.Error()))
	}
	tv, _ = m.Value(tv).(map[string]any)
	return fire, tv, nil
}

// defaultResponseCondition is Kestra's: any response below 400.
const defaultResponseCondition = "{{ response.statusCode < 400 }}"

// HTTPTrigger is the properties of an http.Trigger: the request, how often
// it is sent and when its response starts an execution.
type HTTPTrigger struct {
	HTTPRequest
	Interval          string `json:"interval"`
	ResponseCondition string `json:"responseCondition"`
	EncryptBody       bool   `json:"encryptBody"`
}

// triggerOnlyProps are the properties every trigger takes, read by the
// scheduler rather than by the poll.
var triggerOnlyProps = []string{"conditions", "stopAfter", "workerGroup", "logLevel", "logToFile", "failOnTriggerError", "minLogLevel"}

func decodeHTTPTrigger(tr *flow.Trigger) (*HTTPTrigger, []*flow.Error) {
	props := make(map[string]any, len(tr.Props))
	for k, v := range tr.Props {
		props[k] = v
	}
	for _, k := range triggerOnlyProps {
		delete(props, k)
	}
	t := &flow.Task{ID: tr.ID, Type: tr.Type, Props: props}
	x := &HTTPTrigger{}
	if errs := decode(t, x); len(errs) > 0 {
		return nil, errs
	}
	errs := checkHTTPRequest(t, &x.HTTPRequest)
	if x.Interval != "" {
		if d, err := flow.ParseDuration(x.Interval); err != nil || d < time.Second {
			errs = append(errs, &flow.Error{Path: "interval", Message: fmt.Sprintf("interval %q must be an ISO 8601 duration of at least PT1S", x.Interval)})
		}
	}
	if x.EncryptBody {
		errs = append(errs, &flow.Error{Path: "encryptBody", Message: "encryptBody is not supported: the body is kept as trigger.body"})
	}
	return x, errs
}

// HTTPPoller evaluates http.Trigger triggers for the scheduler.
type HTTPPoller struct {
	Renderer worker.Renderer
	Log      *slog.Logger
}

// Handles reports whether typ is a trigger HTTPPoller polls.
func (p HTTPPoller) Handles(typ string) bool { return typ == pHTTPTrigger }

// Interval is how often tr is polled.
func (p HTTPPoller) Interval(tr *flow.Trigger) (time.Duration, error) {
	x, errs := decodeHTTPTrigger(tr)
	if len(errs) > 0 {
		return 0, flow.Errors(errs)
	}
	return pollInterval(x.Interval)
}

// Poll sends tr's request once and reports whether its response meets the
// responseCondition; the trigger variables (uri, code, headers, body) are
// those an execution it starts sees. A 4xx or 5xx response is an answer
// like any other: the condition decides.
func (p HTTPPoller) Poll(ctx context.Context, tr *flow.Trigger, vars map[string]any) (bool, map[string]any, error) {
	// Secrets the request resolves (a token in the URI or a header) are
	// learnt here and masked in what the poll returns: the trigger
	// variables are stored with the execution it starts.
	return maskedPoll(ctx, func(ctx context.Context) (bool, map[string]any, error) { return p.poll(ctx, tr, vars) })
}

func (p HTTPPoller) poll(ctx context.Context, tr *flow.Trigger, vars map[string]any) (bool, map[string]any, error) {
	x, errs := decodeHTTPTrigger(tr)
	if len(errs) > 0 {
		return false, nil, flow.Errors(errs)
	}
	allow := true
	x.AllowFailed = &allow
	if x.Options != nil {
		x.Options.AllowedResponseCodes = nil
	}
	env := &pollEnv{r: p.Renderer, vars: vars, log: p.Log, trigger: tr.ID}
	out, err := x.HTTPRequest.run(ctx, env)
	if err != nil {
		return false, nil, err
	}
	cond := x.ResponseCondition
	if cond == "" {
		cond = defaultResponseCondition
	}
	rvars := make(map[string]any, len(vars)+1)
	for k, v := range vars {
		rvars[k] = v
	}
	rvars["response"] = map[string]any{"statusCode": out["code"], "headers": out["headers"], "body": out["body"]}
	ok, err := p.Renderer.Render(ctx, cond, rvars)
	if err != nil {
		return false, nil, fmt.Errorf("responseCondition: %w", err)
	}
	if !engine.Truthy(strings.TrimSpace(ok)) {
		return false, nil, nil
	}
	return true, map[string]any{"uri": out["uri"], "code": out["code"], "headers": out["headers"], "body": out["body"]}, nil
}

// pollEnv is the runEnv of a poll: the flow's variables, and log lines to
// the process log (a poll has no execution to log to).
type pollEnv struct {
	r       worker.Renderer
	vars    map[string]any
	log     *slog.Logger
	trigger string
}

func (e *pollEnv) Render(ctx context.Context, tmpl string) (string, error) {
	return e.r.Render(ctx, tmpl, e.vars)
}

func (e *pollEnv) RenderValue(ctx context.Context, v any) (any, error) {
	return e.r.RenderValue(ctx, v, e.vars)
}

func (e *pollEnv) Log(level, msg string) {
	if e.log != nil && level != "DEBUG" && level != "TRACE" {
		e.log.Info(msg, "trigger_id", e.trigger)
	}
}
