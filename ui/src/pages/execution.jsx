import { useEffect, useState, useMemo } from 'preact/hooks';
import { api, stream, enc } from '../api.js';
import { Link, navigate } from '../router.jsx';
import { ResumeDialog } from './execute.jsx';
import { StateBadge, ErrorBox, Loading, fmtDate, fmtDuration, durationOf, TERMINAL } from '../components.jsx';

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

// ExecutionPage shows one execution: task runs with a Gantt that grows
// live, logs streamed over SSE, outputs, and the actions.
export function ExecutionPage({ namespace, flowId, id, tab = 'gantt' }) {
  const [ex, setEx] = useState(null);
  const [logs, setLogs] = useState([]);
  const [error, setError] = useState(null);
  const [gen, setGen] = useState(0); // bumped after an action, to follow again
  const [live, setLive] = useState(false);
  const [resuming, setResuming] = useState(false);
  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    api('/executions/' + enc(id), { signal: ctl.signal }).then((e) => {
      setEx(e);
      if (TERMINAL.includes(e.state.current)) return;
      setLive(true);
      return stream('/executions/' + enc(id) + '/follow', (_, data) => { if (data && data.id) setEx(data); }, ctl.signal);
    }).catch((e) => e.name !== 'AbortError' && setError(e)).finally(() => setLive(false));
    // logs: the stream replays what is stored, then follows
    setLogs([]);
    const seen = new Set();
    stream('/logs/' + enc(id) + '/follow', (_, le) => {
      if (!le || !le.message && !le.level) return;
      const k = (le.seq ?? '') + '|' + le.timestamp + '|' + le.taskRunId + '|' + le.message;
      if (seen.has(k)) return;
      seen.add(k);
      setLogs((l) => l.concat([le]));
    }, ctl.signal).catch(() => {});
    return () => ctl.abort();
  }, [id, gen]);
  const act = async (what) => {
    setError(null);
    try {
      if (what === 'kill') await api('/executions/' + enc(id) + '/kill', { method: 'DELETE' });
      else if (what === 'restart') await api('/executions/' + enc(id) + '/restart', { method: 'POST' });
      else if (what === 'replay') {
        const n = await api('/executions/' + enc(id) + '/replay', { method: 'POST' });
        navigate(`/ui/main/executions/${enc(n.namespace)}/${enc(n.flowId)}/${enc(n.id)}`);
        return;
      }
      setGen((g) => g + 1);
    } catch (e) { setError(e); }
  };
  if (!ex) return <div class="page">{error ? <ErrorBox error={error} /> : <Loading />}</div>;
  const st = ex.state.current;
  const base = `/ui/main/executions/${enc(namespace)}/${enc(flowId)}/${enc(id)}`;
  const tabs = [['gantt', 'Gantt'], ['logs', 'Logs'], ['outputs', 'Outputs'], ['overview', 'Overview']];
  return (
    <div class="page">
      <header class="bar">
        <h1><Link href={`/ui/main/flows/edit/${enc(ex.namespace)}/${enc(ex.flowId)}`}><span class="muted">{ex.namespace} /</span> {ex.flowId}</Link></h1>
        <StateBadge state={st} />
        {live && <span class="live" title="Updating live">● live</span>}
        <div class="grow" />
        {!TERMINAL.includes(st) && <button type="button" class="danger" onClick={() => act('kill')}>Kill</button>}
        {st === 'PAUSED' && <button type="button" onClick={() => setResuming(true)}>Resume</button>}
        {(st === 'FAILED' || st === 'KILLED' || st === 'WARNING') && <button type="button" onClick={() => act('restart')}>Restart</button>}
        {TERMINAL.includes(st) && <button type="button" onClick={() => act('replay')}>Replay</button>}
      </header>
      <div class="meta muted"><span>Id <code>{ex.id}</code></span><span>Started {fmtDate(ex.state.startDate)}</span><span>Duration {fmtDuration(durationOf(ex.state))}</span><span>Revision {ex.flowRevision}</span>
        {(ex.labels || []).filter((l) => !l.key.startsWith('system.')).map((l) => <span class="badge">{l.key}:{l.value}</span>)}
      </div>
      <ErrorBox error={error} />
      {ex.error && <div class="error">{ex.error}</div>}
      <nav class="tabs" role="tablist" aria-label="Execution views">
        {tabs.map(([k, label]) => <Link href={k === 'gantt' ? base + '/gantt' : base + '/' + k} role="tab" aria-selected={tab === k} class={tab === k ? 'active' : ''}>{label}</Link>)}
      </nav>
      {resuming && <ResumeDialog ex={ex} onClose={() => setResuming(false)} onDone={() => { setResuming(false); setGen((g) => g + 1); }} />}
      {tab === 'gantt' && <Gantt ex={ex} onReplay={async (tr) => {
        try { const n = await api('/executions/' + enc(id) + '/replay?taskRunId=' + enc(tr.id), { method: 'POST' }); navigate(`/ui/main/executions/${enc(n.namespace)}/${enc(n.flowId)}/${enc(n.id)}`); } catch (e) { setError(e); }
      }} />}
      {tab === 'logs' && <Logs logs={logs} ex={ex} />}
      {tab === 'outputs' && <Outputs ex={ex} />}
      {tab === 'overview' && <Overview ex={ex} />}
    </div>
  );
}

// Gantt draws each task run as a bar on the execution's time line.
function Gantt({ ex, onReplay }) {
  const runs = ex.taskRunList || [];
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (TERMINAL.includes(ex.state.current)) return;
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [ex.state.current]);
  const t0 = ex.state.startDate ? new Date(ex.state.startDate).getTime() : now;
  const t1 = ex.state.endDate ? new Date(ex.state.endDate).getTime() : now;
  const span = Math.max(t1 - t0, 1);
  const depth = (tr) => { let d = 0, p = tr.parentTaskRunId; while (p && d < 10) { d++; const x = runs.find((r) => r.id === p); p = x && x.parentTaskRunId; } return d; };
  if (runs.length === 0) return <p class="muted">No task run yet.</p>;
  return (
    <table class="table gantt" aria-label="Task runs">
      <thead><tr><th>Task</th><th>State</th><th>Duration</th><th class="bars">Timeline</th><th><span class="sr">Actions</span></th></tr></thead>
      <tbody>
        {runs.map((tr) => {
          const s = tr.state.startDate ? new Date(tr.state.startDate).getTime() : t0;
          const e = tr.state.endDate ? new Date(tr.state.endDate).getTime() : now;
          const left = ((s - t0) / span) * 100;
          const width = Math.max(((e - s) / span) * 100, 0.5);
          return (
            <tr data-task={tr.taskId}>
              <td style={{ paddingLeft: 8 + depth(tr) * 16 + 'px' }}><code>{tr.taskId}</code>{tr.value && <span class="muted"> [{tr.value}]</span>}{tr.error && <div class="error small">{tr.error}</div>}</td>
              <td><StateBadge state={tr.state.current} /></td>
              <td>{fmtDuration(e - s)}</td>
              <td class="bars"><div class="track"><div class={'bar state-' + tr.state.current} style={{ left: left + '%', width: Math.min(width, 100 - left) + '%' }} /></div></td>
              <td>{TERMINAL.includes(ex.state.current) && <button type="button" class="small" onClick={() => onReplay(tr)} aria-label={'Replay from ' + tr.taskId}>Replay</button>}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Logs({ logs, ex }) {
  const [level, setLevel] = useState('INFO');
  const [q, setQ] = useState('');
  const min = LEVELS.indexOf(level);
  const shown = useMemo(() => logs.filter((l) => LEVELS.indexOf(l.level) >= min && (!q || (l.message || '').toLowerCase().includes(q.toLowerCase()))), [logs, level, q]);
  const task = (id) => { const r = (ex.taskRunList || []).find((t) => t.id === id); return r ? r.taskId : ''; };
  return (
    <section>
      <div class="filters">
        <label class="inline">Level<select value={level} onChange={(e) => setLevel(e.target.value)}>{LEVELS.map((l) => <option>{l}</option>)}</select></label>
        <label class="inline">Search<input type="search" value={q} onInput={(e) => setQ(e.target.value)} /></label>
        <span class="muted">{shown.length} of {logs.length} lines</span>
      </div>
      <div class="logs card" role="log" aria-live="polite" data-testid="logs">
        {shown.map((l) => (
          <div class={'log level-' + l.level}>
            <span class="muted">{fmtDate(l.timestamp)}</span> <span class="lvl">{l.level}</span> <span class="task">{task(l.taskRunId) || l.taskId}</span> <span class="msg">{l.message}</span>
          </div>
        ))}
        {shown.length === 0 && <div class="muted">No log line{logs.length ? ' at this level' : ' yet'}.</div>}
      </div>
    </section>
  );
}

function Outputs({ ex }) {
  const rows = [];
  for (const tr of ex.taskRunList || []) if (tr.outputs && Object.keys(tr.outputs).length) rows.push([tr.taskId + (tr.value ? ' [' + tr.value + ']' : ''), tr.outputs]);
  if (ex.outputs && Object.keys(ex.outputs).length) rows.unshift(['flow outputs', ex.outputs]);
  if (!rows.length) return <p class="muted">No output.</p>;
  return (
    <table class="table" aria-label="Outputs">
      <thead><tr><th>Task</th><th>Outputs</th></tr></thead>
      <tbody>{rows.map(([k, v]) => <tr><td><code>{k}</code></td><td><pre class="mono">{JSON.stringify(v, null, 2)}</pre></td></tr>)}</tbody>
    </table>
  );
}

function Overview({ ex }) {
  return (
    <dl class="overview card">
      <dt>Namespace</dt><dd>{ex.namespace}</dd>
      <dt>Flow</dt><dd>{ex.flowId} (revision {ex.flowRevision})</dd>
      <dt>State</dt><dd><StateBadge state={ex.state.current} /></dd>
      <dt>Created</dt><dd>{fmtDate(ex.state.startDate)}</dd>
      <dt>Ended</dt><dd>{fmtDate(ex.state.endDate)}</dd>
      {ex.originalId && <><dt>Replay of</dt><dd><Link href={`/ui/main/executions/${enc(ex.namespace)}/${enc(ex.flowId)}/${enc(ex.originalId)}`}>{ex.originalId}</Link></dd></>}
      <dt>Inputs</dt><dd><pre class="mono">{JSON.stringify(ex.inputs || {}, null, 2)}</pre></dd>
      <dt>History</dt><dd>{(ex.state.histories || []).map((h) => <div><StateBadge state={h.state} /> <span class="muted">{fmtDate(h.date)}</span></div>)}</dd>
    </dl>
  );
}
