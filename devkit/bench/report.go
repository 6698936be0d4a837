package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

// line is a one-line summary for progress output.
func (r Result) line() string {
	db := ""
	if r.DBCommitsPerExec > 0 {
		db = fmt.Sprintf(", database: %.2f commits and %.2f WAL flushes per execution, %.2f CPU s/1k", r.DBCommitsPerExec, r.DBFlushesPerExec, r.DBCPUSecPer1000)
	}
	return fmt.Sprintf("%d executions (%d failed) in %.1fs: %.0f/s, %.0f task runs/s, p50 %.1f ms, p99 %.1f ms, %.2f CPU s/1k, peak RSS %.0f MiB%s %s",
		r.Executions, r.Failed, r.Seconds, r.ExecPerSec, r.TaskRunsPerSec, r.P50Millis, r.P99Millis, r.CPUSecPer1000, r.PeakRSSMiB, db, r.Note)
}

// WriteTable writes the report as an aligned table with its notes below.
func (rep *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "Osprey on %s, %d cores; load average %s before, %s after\n", rep.Store, rep.Cores, rep.LoadBefore, rep.LoadAfter)
	fmt.Fprintf(w, "ready in %.1f ms; idle RSS %.1f MiB with %d stored executions, %.1f MiB with %d after the run\n\n",
		rep.ReadyMillis, rep.IdleRSSMiB, rep.Stored, rep.IdleRSSAfterMiB, rep.StoredAfter)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\texecutions\tfailed\texec/s\ttask runs/s\tp50 ms\tp95 ms\tp99 ms\tCPU s/1k exec\tpeak RSS MiB\tKey Vault calls\t")
	for _, r := range rep.Scenarios {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t%.0f\t%d\t\n", r.Name, r.Executions, r.Failed, r.ExecPerSec,
			r.TaskRunsPerSec, r.P50Millis, r.P95Millis, r.P99Millis, r.CPUSecPer1000, r.PeakRSSMiB, r.KeyVaultCalls)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if slices.ContainsFunc(rep.Scenarios, func(r Result) bool { return r.DBCommitsPerExec > 0 }) {
		fmt.Fprintln(w, "\nthe database, per execution (counted after the scenario settled; idle polls included):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "scenario\tcommits\tWAL flushes\tdatabase CPU s/1k exec\t")
		for _, r := range rep.Scenarios {
			fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t\n", r.Name, r.DBCommitsPerExec, r.DBFlushesPerExec, r.DBCPUSecPer1000)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, r := range rep.Scenarios {
		if r.Note != "" {
			fmt.Fprintf(w, "- %s: %s\n", r.Name, r.Note)
		}
	}
	return nil
}

// WriteJSON writes the report as indented JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
