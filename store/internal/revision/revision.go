// Package revision decides what a flow write does to a flow's revisions,
// the same way in every store driver: the drivers read the head revision
// under their own locking, ask Next, and insert what it returns.
package revision

import "github.com/ospreyhq/osprey/store"

// Op is a flow write.
type Op string

// The flow writes.
const (
	Create Op = "create"
	Update Op = "update"
	Delete Op = "delete"
)

// Next decides a write on a flow whose head revision is head (exists false
// when the flow has none). Create wants no head or a deleted one; update and
// delete want a live one. It returns the record to insert, or write false
// with the head itself when an update changes nothing. Updated is left for
// the driver to stamp.
func Next(head store.FlowRecord, exists bool, op Op, ns, id, source string) (rec store.FlowRecord, write bool, err error) {
	live := exists && !head.Deleted
	switch op {
	case Create:
		if live {
			return store.FlowRecord{}, false, store.ErrConflict
		}
	case Update:
		if !live {
			return store.FlowRecord{}, false, store.ErrNotFound
		}
		if head.Source == source {
			return head, false, nil
		}
	case Delete:
		if !live {
			return store.FlowRecord{}, false, store.ErrNotFound
		}
		source = head.Source
	}
	return store.FlowRecord{Namespace: ns, ID: id, Revision: head.Revision + 1, Source: source, Deleted: op == Delete}, true, nil
}
