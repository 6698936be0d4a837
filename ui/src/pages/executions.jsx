import { useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { Link, navigate } from '../router.jsx';
import { useLoad, StateBadge, ErrorBox, Loading, fmtDate, fmtDuration, durationOf, STATES } from '../components.jsx';
import { Pager } from './flows.jsx';

// ExecutionsPage lists executions with filters kept in the URL.
export function ExecutionsPage({ path }) {
  const q = new URLSearchParams(path.split('?')[1] || '');
  const get = (k) => q.get(k) || '';
  const page = Number(get('page') || 1);
  const size = 25;
  const set = (k, v) => {
    const n = new URLSearchParams(q);
    if (v) n.set(k, v); else n.delete(k);
    if (k !== 'page') n.delete('page');
    navigate('/ui/main/executions' + (n.toString() ? '?' + n : ''), true);
  };
  const sinceISO = get('since') ? new Date(Date.now() - Number(get('since')) * 3600e3).toISOString() : '';
  const list = useLoad(() => {
    const p = new URLSearchParams({ page: String(page), size: String(size) });
    for (const k of ['namespace', 'flowId', 'state']) if (get(k)) p.set(k, get(k));
    if (get('labels')) p.append('labels', get('labels'));
    if (sinceISO) p.set('startDate', sinceISO);
    return api('/executions/search?' + p);
  }, [path]);
  return (
    <div class="page">
      <header class="bar"><h1>Executions</h1></header>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label class="inline">State<select value={get('state')} onChange={(e) => set('state', e.target.value)}><option value="">any</option>{STATES.map((s) => <option>{s}</option>)}</select></label>
        <label class="inline">Namespace<input value={get('namespace')} onChange={(e) => set('namespace', e.target.value)} placeholder="company.team" /></label>
        <label class="inline">Flow<input value={get('flowId')} onChange={(e) => set('flowId', e.target.value)} placeholder="flow id" /></label>
        <label class="inline">Label<input value={get('labels')} onChange={(e) => set('labels', e.target.value)} placeholder="key:value" /></label>
        <label class="inline">Since<select value={get('since')} onChange={(e) => set('since', e.target.value)}><option value="">any time</option><option value="1">1 hour</option><option value="24">1 day</option><option value="168">7 days</option><option value="720">30 days</option></select></label>
      </form>
      <ErrorBox error={list.error} />
      {list.loading && !list.data ? <Loading /> : list.data && (
        <>
          <table class="table" aria-label="Executions">
            <thead><tr><th>Id</th><th>Flow</th><th>State</th><th>Start</th><th>Duration</th><th>Labels</th></tr></thead>
            <tbody>
              {list.data.results.map((e) => (
                <tr>
                  <td><Link href={`/ui/main/executions/${enc(e.namespace)}/${enc(e.flowId)}/${enc(e.id)}`}><code>{e.id.slice(0, 8)}</code></Link></td>
                  <td><span class="muted">{e.namespace} /</span> {e.flowId}</td>
                  <td><StateBadge state={e.state.current} /></td>
                  <td>{fmtDate(e.state.startDate)}</td>
                  <td>{fmtDuration(durationOf(e.state))}</td>
                  <td>{(e.labels || []).filter((l) => !l.key.startsWith('system.')).map((l) => <span class="badge">{l.key}:{l.value}</span>)}</td>
                </tr>
              ))}
              {list.data.results.length === 0 && <tr><td colSpan={6} class="muted">No execution matches.</td></tr>}
            </tbody>
          </table>
          <Pager page={page} size={size} total={list.data.total} onPage={(p) => set('page', String(p))} />
        </>
      )}
    </div>
  );
}
