import { useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { useLoad, ErrorBox, Loading } from '../components.jsx';

// Topology draws the flow's tasks as a tree: flowable tasks hold their
// children (tasks, then/else, cases, errors, finally), and the flow's own
// errors, finally and triggers are branches of their own.
export function Topology({ flow }) {
  const branches = [['tasks', flow.tasks], ['errors', flow.errors], ['finally', flow.finally], ['afterExecution', flow.afterExecution]];
  return (
    <div class="card topology" aria-label="Topology">
      {(flow.triggers || []).length > 0 && <Branch name="triggers" items={flow.triggers} trigger />}
      {branches.filter(([, l]) => l && l.length).map(([name, l]) => <Branch name={name} items={l} />)}
    </div>
  );
}

const CHILD_KEYS = ['tasks', 'then', 'else', 'errors', 'finally', 'cases'];

function Branch({ name, items, trigger }) {
  return (
    <div class={'branch branch-' + name}>
      <div class="branch-name">{name}</div>
      <ol class="nodes">
        {items.map((t) => <Node t={t} trigger={trigger} />)}
      </ol>
    </div>
  );
}

function Node({ t, trigger }) {
  const short = (t.type || '').split('.').pop();
  const kids = [];
  for (const k of CHILD_KEYS) {
    const v = t[k];
    if (Array.isArray(v) && v.length && typeof v[0] === 'object') kids.push([k, v]);
    else if (k === 'cases' && v && typeof v === 'object') for (const [c, l] of Object.entries(v)) kids.push(['case ' + c, l]);
  }
  return (
    <li class={'node' + (trigger ? ' trigger' : '') + (t.disabled ? ' disabled' : '')} data-node={t.id}>
      <div class="node-box"><code>{t.id}</code> <span class="muted">{short}</span>{t.disabled && <span class="badge">disabled</span>}</div>
      {kids.map(([k, l]) => <Branch name={k} items={l} />)}
    </li>
  );
}

// diffLines is a longest-common-subsequence line diff: enough for flow
// sources, which are hundreds of lines at most.
export function diffLines(a, b) {
  const x = a.split('\n'), y = b.split('\n');
  const n = x.length, m = y.length;
  const dp = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) dp[i][j] = x[i] === y[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const out = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) { out.push([' ', x[i]]); i++; j++; }
    else if (dp[i + 1][j] >= dp[i][j + 1]) out.push(['-', x[i++]]);
    else out.push(['+', y[j++]]);
  }
  while (i < n) out.push(['-', x[i++]]);
  while (j < m) out.push(['+', y[j++]]);
  return out;
}

// Revisions lists the flow's revisions and shows the diff between two.
export function Revisions({ namespace, id }) {
  const revs = useLoad(() => api(`/flows/${enc(namespace)}/${enc(id)}/revisions`), [namespace, id]);
  const [left, setLeft] = useState(null);
  const [right, setRight] = useState(null);
  if (revs.loading && !revs.data) return <Loading />;
  if (revs.error) return <ErrorBox error={revs.error} />;
  const list = revs.data || [];
  const last = list.length ? list[list.length - 1].revision : 0;
  const r = right ?? last;
  const l = left ?? Math.max(1, r - 1);
  const src = (n) => (list.find((x) => x.revision === n) || {}).source || '';
  const diff = diffLines(src(l), src(r));
  const opts = list.map((x) => <option value={x.revision}>revision {x.revision}</option>);
  return (
    <section>
      <div class="filters">
        <label class="inline">From<select value={l} onChange={(e) => setLeft(Number(e.target.value))}>{opts}</select></label>
        <label class="inline">To<select value={r} onChange={(e) => setRight(Number(e.target.value))}>{opts}</select></label>
        <span class="muted">{list.length} revision{list.length === 1 ? '' : 's'} · +{diff.filter((d) => d[0] === '+').length} −{diff.filter((d) => d[0] === '-').length}</span>
      </div>
      <pre class="card diff" aria-label={`Diff of revision ${l} and ${r}`}>
        {diff.map(([k, t]) => <div class={k === '+' ? 'add' : k === '-' ? 'del' : ''}>{k} {t}</div>)}
      </pre>
    </section>
  );
}

// Triggers lists the flow's triggers with their state and a switch.
export function Triggers({ namespace, id }) {
  const list = useLoad(() => api(`/triggers/${enc(namespace)}/${enc(id)}`), [namespace, id]);
  const [error, setError] = useState(null);
  if (list.loading && !list.data) return <Loading />;
  if (list.error) return <ErrorBox error={list.error} />;
  const set = async (tr, disabled) => {
    setError(null);
    try {
      await api('/triggers/set-disabled/by-triggers?disabled=' + disabled, { method: 'POST', body: [{ namespace, flowId: id, triggerId: tr.abstractTrigger.id }] });
      list.reload();
    } catch (e) { setError(e); }
  };
  const rows = list.data.results || [];
  return (
    <section>
      <ErrorBox error={error} />
      <table class="table" aria-label="Triggers">
        <thead><tr><th>Id</th><th>Type</th><th>Next</th><th>State</th><th><span class="sr">Actions</span></th></tr></thead>
        <tbody>
          {rows.map((tr) => {
            const ctx = tr.triggerContext || {};
            const off = ctx.disabled || tr.abstractTrigger.disabled;
            return (
              <tr data-trigger={tr.abstractTrigger.id}>
                <td><code>{tr.abstractTrigger.id}</code></td>
                <td class="muted">{(tr.abstractTrigger.type || '').split('.').pop()}{tr.abstractTrigger.cron && <> · <code>{tr.abstractTrigger.cron}</code></>}</td>
                <td>{ctx.nextExecutionDate ? new Date(ctx.nextExecutionDate).toLocaleString() : ''}</td>
                <td>{off ? <span class="badge">disabled</span> : <span class="badge state-SUCCESS">enabled</span>}</td>
                <td>{!tr.abstractTrigger.disabled && <button type="button" class="small" onClick={() => set(tr, !off)} aria-label={(off ? 'Enable ' : 'Disable ') + tr.abstractTrigger.id}>{off ? 'Enable' : 'Disable'}</button>}</td>
              </tr>
            );
          })}
          {rows.length === 0 && <tr><td colSpan={5} class="muted">This flow has no trigger.</td></tr>}
        </tbody>
      </table>
    </section>
  );
}
