import { useEffect, useState, useRef } from 'preact/hooks';

// useLoad runs load() when deps change and keeps {data, error, loading}.
export function useLoad(load, deps) {
  const [s, set] = useState({ data: null, error: null, loading: true });
  const gen = useRef(0);
  const run = () => {
    const g = ++gen.current;
    set((o) => ({ ...o, loading: true }));
    load().then((data) => g === gen.current && set({ data, error: null, loading: false }),
      (error) => g === gen.current && set({ data: null, error, loading: false }));
  };
  useEffect(run, deps);
  return { ...s, reload: run };
}

export function StateBadge({ state }) {
  return <span class={'badge state-' + (state || 'UNKNOWN')} data-state={state}>{state}</span>;
}

export function ErrorBox({ error }) {
  if (!error) return null;
  return <div class="error" role="alert">{error.message || String(error)}</div>;
}

export function Loading() { return <div class="muted" aria-busy="true">Loading…</div>; }

export function fmtDate(d) {
  if (!d) return '';
  const x = new Date(d);
  return x.toLocaleString(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

// fmtDuration writes a duration in ms the way people read it.
export function fmtDuration(ms) {
  if (ms == null || isNaN(ms)) return '';
  if (ms < 1000) return Math.round(ms) + 'ms';
  const s = ms / 1000;
  if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + 's';
  const m = Math.floor(s / 60);
  if (m < 60) return m + 'm ' + Math.round(s % 60) + 's';
  return Math.floor(m / 60) + 'h ' + (m % 60) + 'm';
}

export function durationOf(state) {
  if (!state || !state.startDate) return null;
  const end = state.endDate ? new Date(state.endDate) : new Date();
  return end - new Date(state.startDate);
}

export const TERMINAL = ['SUCCESS', 'WARNING', 'FAILED', 'KILLED', 'CANCELLED', 'SKIPPED'];
export const STATES = ['CREATED', 'QUEUED', 'RUNNING', 'PAUSED', 'RESTARTED', 'KILLING', 'SUCCESS', 'WARNING', 'FAILED', 'KILLED', 'CANCELLED', 'RETRYING', 'RETRIED', 'SKIPPED'];
