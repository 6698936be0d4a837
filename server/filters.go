package server

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// filterParam matches Kestra's structured filters,
// filters[field][OPERATION] and filters[labels][EQUALS][key].
var filterParam = regexp.MustCompile(`^filters\[([A-Za-z]+)\]\[([A-Z_]+)\](?:\[([^\]]+)\])?$`)

// searchFilters is what a search understood from Kestra's structured
// filters, merged into the legacy parameters.
type searchFilters struct {
	namespace, flowID, q string
	states, labels       []string
}

// parseFilters reads the subset of Kestra's filters the store answers
// exactly; any other filter is refused rather than silently ignored, since
// ignoring it would return too much.
func parseFilters(q url.Values, allowed map[string][]string) (searchFilters, error) {
	var f searchFilters
	for key, values := range q {
		if !strings.HasPrefix(key, "filters[") {
			continue
		}
		m := filterParam.FindStringSubmatch(key)
		if m == nil {
			return f, Errorf(http.StatusBadRequest, fmt.Sprintf("filter %s: write it as filters[field][OPERATION]=value; and/or groups are not supported", key))
		}
		field, op, labelKey := m[1], m[2], m[3]
		ops, ok := allowed[field]
		if !ok || !slices.Contains(ops, op) {
			return f, Errorf(http.StatusBadRequest, fmt.Sprintf("filter %s is not supported; supported: %s", key, describeFilters(allowed)))
		}
		for _, v := range values {
			switch field {
			case "namespace":
				f.namespace = v
			case "flowId":
				f.flowID = v
			case "q":
				f.q = v
			case "state":
				f.states = append(f.states, v)
			case "labels":
				if labelKey == "" {
					return f, Errorf(http.StatusBadRequest, "filter "+key+": put the label key in brackets, filters[labels][EQUALS][key]=value")
				}
				f.labels = append(f.labels, labelKey+":"+v)
			}
		}
	}
	return f, nil
}

func describeFilters(allowed map[string][]string) string {
	var parts []string
	for _, field := range []string{"q", "namespace", "flowId", "state", "labels"} {
		for _, op := range allowed[field] {
			parts = append(parts, "filters["+field+"]["+op+"]")
		}
	}
	return strings.Join(parts, ", ")
}

// Kestra's PREFIX on a namespace means the namespace and its children,
// which is what the store's namespace filter does.
var (
	flowFilters = map[string][]string{
		"q":         {"EQUALS"},
		"namespace": {"PREFIX", "STARTS_WITH"},
	}
	executionFilters = map[string][]string{
		"namespace": {"PREFIX", "STARTS_WITH"},
		"flowId":    {"EQUALS"},
		"state":     {"EQUALS", "IN"},
		"labels":    {"EQUALS"},
	}
)
