package server

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/ospreyhq/osprey/flow"
)

// Node types and relation types of Kestra's FlowGraph.
const (
	graphTask        = "io.kestra.core.models.hierarchies.GraphTask"
	graphTrigger     = "io.kestra.core.models.hierarchies.GraphTrigger"
	graphClusterType = "io.kestra.core.models.hierarchies.GraphCluster"
	graphClusterRoot = "io.kestra.core.models.hierarchies.GraphClusterRoot"
	graphClusterEnd  = "io.kestra.core.models.hierarchies.GraphClusterEnd"

	relSequential = "SEQUENTIAL"
	relParallel   = "PARALLEL"
	relChoice     = "CHOICE"
	relError      = "ERROR"
	relFinally    = "FINALLY"
	relDynamic    = "DYNAMIC"
	// relAfterExecution links the afterExecution tasks, which run once the
	// execution has ended.
	relAfterExecution = "AFTER_EXECUTION"
)

// flowGraph is Kestra's FlowGraph: every node, the edges between them,
// and a cluster per flowable task listing the nodes inside it.
type flowGraph struct {
	Nodes     []graphNode    `json:"nodes"`
	Edges     []graphEdge    `json:"edges"`
	Clusters  []graphCluster `json:"clusters"`
	Flowables []string       `json:"flowables"`
}

type graphNode struct {
	UID          string     `json:"uid"`
	Type         string     `json:"type"`
	Task         *graphItem `json:"task,omitempty"`
	Trigger      *graphItem `json:"trigger,omitempty"`
	RelationType string     `json:"relationType,omitempty"`
}

// graphItem is the part of a task or trigger a graph shows.
type graphItem struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
	Disabled    bool   `json:"disabled,omitempty"`
}

type graphEdge struct {
	Source   string        `json:"source"`
	Target   string        `json:"target"`
	Relation graphRelation `json:"relation"`
}

type graphRelation struct {
	RelationType string `json:"relationType,omitempty"`
	Value        string `json:"value,omitempty"`
}

type graphCluster struct {
	Cluster graphNode `json:"cluster"`
	Nodes   []string  `json:"nodes"`
	Parents []string  `json:"parents"`
	Start   string    `json:"start"`
	End     string    `json:"end"`
}

// flowGraph answers the topology of a flow revision (?revision=, default
// the latest), as Kestra's GET /flows/{namespace}/{id}/graph.
func (s *Server) flowGraph(w http.ResponseWriter, r *http.Request) error {
	ns, id := r.PathValue("namespace"), r.PathValue("id")
	rev, err := queryInt(r.URL.Query().Get("revision"), "revision", 0, 1)
	if err != nil {
		return err
	}
	rec, err := s.opts.Store.Flows().Get(r.Context(), ns, id, rev)
	if err != nil {
		return fmt.Errorf("flow %s.%s: %w", ns, id, err)
	}
	f, err := s.parse([]byte(rec.Source))
	if err != nil {
		return &Error{Status: http.StatusUnprocessableEntity, Message: fmt.Sprintf("flow %s.%s revision %d is invalid: %v", ns, id, rec.Revision, err)}
	}
	writeJSON(w, http.StatusOK, buildGraph(f))
	return nil
}

// executionGraph is the graph of the flow revision an execution ran
// (Kestra's GET /executions/{executionId}/graph). Osprey draws the flow's
// structure; it does not expand subflows (the subflows parameter).
func (s *Server) executionGraph(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("executionId")
	e, _, err := s.opts.Store.Executions().Get(r.Context(), id)
	if err != nil {
		return fmt.Errorf("execution %s: %w", id, err)
	}
	rec, err := s.opts.Store.Flows().Get(r.Context(), e.Namespace, e.FlowID, e.FlowRevision)
	if err != nil {
		return fmt.Errorf("flow %s.%s revision %d of execution %s: %w", e.Namespace, e.FlowID, e.FlowRevision, id, err)
	}
	f, err := s.parse([]byte(rec.Source))
	if err != nil {
		return &Error{Status: http.StatusUnprocessableEntity, Message: fmt.Sprintf("flow %s.%s revision %d is invalid: %v", e.Namespace, e.FlowID, rec.Revision, err)}
	}
	writeJSON(w, http.StatusOK, buildGraph(f))
	return nil
}

// graphBuilder accumulates a FlowGraph. Task uids are the ids of the
// enclosing flowables and the task joined by dots (ids cannot hold a dot);
// a cluster's start and end nodes add ":start" and ":end" (nor a colon),
// so no uid can collide with another.
type graphBuilder struct {
	g flowGraph
	// open lists the clusters being filled, innermost last.
	open []*graphCluster
}

const rootUID = "root"

func buildGraph(f *flow.Flow) flowGraph {
	b := &graphBuilder{g: flowGraph{Nodes: []graphNode{}, Edges: []graphEdge{}, Clusters: []graphCluster{}, Flowables: []string{}}}
	start, end := rootUID+":start", rootUID+":end"
	b.node(graphNode{UID: start, Type: graphClusterRoot})
	b.node(graphNode{UID: end, Type: graphClusterEnd})
	for _, tg := range f.Triggers {
		uid := "trigger:" + tg.ID
		b.node(graphNode{UID: uid, Type: graphTrigger, Trigger: &graphItem{ID: tg.ID, Type: tg.Type, Description: tg.Description, Disabled: tg.Disabled}})
		b.edge(uid, start, graphRelation{RelationType: relSequential})
	}
	b.list("", start, end, f.Tasks, f.Errors, f.Finally, relSequential)
	if len(f.AfterExecution) > 0 {
		after := rootUID + ":afterExecution"
		b.node(graphNode{UID: after, Type: graphClusterEnd})
		b.chain("", end, after, f.AfterExecution, graphRelation{RelationType: relAfterExecution}, true)
	}
	return b.g
}

func (b *graphBuilder) node(n graphNode) {
	b.g.Nodes = append(b.g.Nodes, n)
	for _, c := range b.open {
		c.Nodes = append(c.Nodes, n.UID)
	}
}

func (b *graphBuilder) edge(from, to string, rel graphRelation) {
	b.g.Edges = append(b.g.Edges, graphEdge{Source: from, Target: to, Relation: rel})
}

// list lays out tasks between start and end: one after the other
// (SEQUENTIAL) or side by side (PARALLEL, DYNAMIC), then the errors
// branch from start (ERROR), then finally before end (FINALLY).
func (b *graphBuilder) list(prefix, start, end string, tasks, errs, finally []*flow.Task, rel string) {
	join := end
	if len(finally) > 0 {
		join = prefix + ":finally"
		if prefix == "" {
			join = rootUID + ":finally"
		}
		b.node(graphNode{UID: join, Type: graphClusterEnd})
	}
	b.chain(prefix, start, join, tasks, graphRelation{RelationType: rel}, rel != relParallel)
	if len(errs) > 0 {
		b.chain(prefix, start, end, errs, graphRelation{RelationType: relError}, true)
	}
	if len(finally) > 0 {
		b.chain(prefix, join, end, finally, graphRelation{RelationType: relFinally}, true)
	}
}

// chain links tasks from start to end, in sequence or each on its own.
func (b *graphBuilder) chain(prefix, start, end string, tasks []*flow.Task, rel graphRelation, sequential bool) {
	if len(tasks) == 0 {
		b.edge(start, end, rel)
		return
	}
	prev := start
	for _, t := range tasks {
		in, out := b.task(prefix, t, rel.RelationType)
		if sequential {
			b.edge(prev, in, rel)
			prev = out
			continue
		}
		b.edge(start, in, rel)
		b.edge(out, end, rel)
	}
	if sequential {
		b.edge(prev, end, rel)
	}
}

// task adds t (a node, or a cluster for a flowable) and returns the uids
// that edges enter and leave it by.
func (b *graphBuilder) task(prefix string, t *flow.Task, rel string) (in, out string) {
	uid := t.ID
	if prefix != "" {
		uid = prefix + "." + t.ID
	}
	item := &graphItem{ID: t.ID, Type: t.Type, Description: t.Description, Disabled: t.Disabled}
	if len(t.ChildTasks()) == 0 {
		b.node(graphNode{UID: uid, Type: graphTask, Task: item, RelationType: rel})
		return uid, uid
	}
	b.g.Flowables = append(b.g.Flowables, t.ID)
	c := &graphCluster{
		Cluster: graphNode{UID: "cluster:" + uid, Type: graphClusterType, Task: item, RelationType: rel},
		Nodes:   []string{},
		Parents: []string{},
		Start:   uid + ":start",
		End:     uid + ":end",
	}
	for _, p := range b.open {
		c.Parents = append(c.Parents, p.Cluster.UID)
	}
	b.open = append(b.open, c)
	b.node(graphNode{UID: c.Start, Type: graphClusterRoot, Task: item})
	b.node(graphNode{UID: c.End, Type: graphClusterEnd, Task: item})
	errs, finally := t.Children["errors"], t.Children["finally"]
	switch {
	case len(t.DagTasks) > 0:
		b.dag(uid, c.Start, c.End, t.DagTasks)
		if len(errs) > 0 {
			b.chain(uid, c.Start, c.End, errs, graphRelation{RelationType: relError}, true)
		}
		if len(finally) > 0 {
			b.chain(uid, c.Start, c.End, finally, graphRelation{RelationType: relFinally}, true)
		}
	case len(t.Cases) > 0 || len(t.Children["then"]) > 0 || len(t.Children["else"]) > 0 || len(t.Children["defaults"]) > 0:
		branches := map[string][]*flow.Task{}
		for k, v := range t.Cases {
			branches[k] = v
		}
		for _, k := range []string{"then", "else", "defaults"} {
			if len(t.Children[k]) > 0 {
				branches[k] = t.Children[k]
			}
		}
		keys := make([]string, 0, len(branches))
		for k := range branches {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b.chain(uid, c.Start, c.End, branches[k], graphRelation{RelationType: relChoice, Value: k}, true)
		}
		if len(errs) > 0 {
			b.chain(uid, c.Start, c.End, errs, graphRelation{RelationType: relError}, true)
		}
		if len(finally) > 0 {
			b.chain(uid, c.Start, c.End, finally, graphRelation{RelationType: relFinally}, true)
		}
	default:
		b.list(uid, c.Start, c.End, t.Children["tasks"], errs, finally, childRelation(t))
	}
	b.open = b.open[:len(b.open)-1]
	b.g.Clusters = append(b.g.Clusters, *c)
	return c.Start, c.End
}

// dag links each entry after the entries it depends on; entries with no
// dependency start from start, entries nothing depends on end at end.
func (b *graphBuilder) dag(prefix, start, end string, entries []*flow.DagTask) {
	in, out := map[string]string{}, map[string]string{}
	for _, d := range entries {
		in[d.Task.ID], out[d.Task.ID] = b.task(prefix, d.Task, relParallel)
	}
	needed := map[string]bool{}
	for _, d := range entries {
		if len(d.DependsOn) == 0 {
			b.edge(start, in[d.Task.ID], graphRelation{RelationType: relParallel})
		}
		for _, dep := range d.DependsOn {
			if o, ok := out[dep]; ok {
				b.edge(o, in[d.Task.ID], graphRelation{RelationType: relSequential})
				needed[dep] = true
			}
		}
	}
	for _, d := range entries {
		if !needed[d.Task.ID] {
			b.edge(out[d.Task.ID], end, graphRelation{RelationType: relParallel})
		}
	}
}

// childRelation is how a flowable runs its tasks list.
func childRelation(t *flow.Task) string {
	typ := t.Type[strings.LastIndex(t.Type, ".")+1:]
	switch typ {
	case "Parallel", "EachParallel":
		return relParallel
	case "ForEach", "EachSequential", "ForEachItem":
		return relDynamic
	}
	return relSequential
}
