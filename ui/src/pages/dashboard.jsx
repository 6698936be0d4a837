import { api, enc } from '../api.js';
import { Link } from '../router.jsx';
import { useLoad, StateBadge, Loading, ErrorBox, fmtDate, fmtDuration, durationOf } from '../components.jsx';

const SHOWN = ['SUCCESS', 'WARNING', 'FAILED', 'KILLED', 'RUNNING'];

// DashboardPage: executions of the last 7 days by state and by day, the
// failure ratio, and what runs now. The figures and the chart are one
// call (POST /stats/executions/daily, counted by the store in one query)
// and "running now" one paged count (size=1) of every running execution,
// however old: three requests whatever the store holds.
export function DashboardPage() {
  const stats = useLoad(() => {
    const start = new Date(); start.setHours(0, 0, 0, 0); start.setDate(start.getDate() - 6);
    const end = new Date(start); end.setDate(end.getDate() + 7);
    return api('/stats/executions/daily', { method: 'POST', body: { startDate: localISO(start), endDate: localISO(end) } });
  }, []);
  const running = useLoad(() => api('/executions/search?size=1&state=RUNNING').then((r) => r.total), []);
  const recent = useLoad(() => api('/executions/search?size=10'), []);
  const counts = { loading: stats.loading || running.loading, error: stats.error || running.error, data: stats.data && running.data !== null ? sumStates(stats.data, running.data) : null };
  const days = stats.data && stats.data.map((d) => {
    const [y, m, day] = d.startDate.split('-').map(Number);
    const total = Object.values(d.executionCounts).reduce((a, n) => a + n, 0);
    return { day: new Date(y, m - 1, day), total, failed: d.executionCounts.FAILED || 0 };
  });
  const c = counts.data || {};
  const done = (c.SUCCESS || 0) + (c.FAILED || 0) + (c.WARNING || 0) + (c.KILLED || 0);
  const max = Math.max(1, ...SHOWN.map((s) => c[s] || 0));
  return (
    <div class="page">
      <header class="bar"><h1>Dashboard</h1><span class="muted">last 7 days</span></header>
      <ErrorBox error={counts.error} />
      <div class="cards">
        <div class="card stat"><div class="muted">Executions</div><div class="big">{counts.data ? SHOWN.reduce((a, s) => a + (c[s] || 0), 0) : '…'}</div></div>
        <div class="card stat"><div class="muted">Failure ratio</div><div class="big">{counts.data ? (done ? Math.round((100 * (c.FAILED || 0)) / done) : 0) + '%' : '…'}</div></div>
        <div class="card stat"><div class="muted">Running now</div><div class="big">{counts.data ? c.RUNNING || 0 : '…'}</div></div>
      </div>
      <section class="card">
        <h2>By state</h2>
        {counts.loading ? <Loading /> : (
          <div class="hbars" role="list">
            {SHOWN.map((s) => <div class="hbar" role="listitem"><span class="label"><StateBadge state={s} /></span><div class="track"><div class={'bar state-' + s} style={{ width: ((c[s] || 0) / max) * 100 + '%' }} /></div><span class="n">{c[s] || 0}</span></div>)}
          </div>
        )}
      </section>
      <section class="card">
        <h2>Per day</h2>
        {days ? <DayChart days={days} /> : <Loading />}
      </section>
      <section class="card">
        <h2>Latest executions</h2>
        {recent.data ? (
          <table class="table" aria-label="Latest executions">
            <tbody>{recent.data.results.map((e) => <tr><td><Link href={`/ui/main/executions/${enc(e.namespace)}/${enc(e.flowId)}/${enc(e.id)}`}>{e.namespace} / {e.flowId}</Link></td><td><StateBadge state={e.state.current} /></td><td>{fmtDate(e.state.startDate)}</td><td>{fmtDuration(durationOf(e.state))}</td></tr>)}</tbody>
          </table>
        ) : <Loading />}
      </section>
    </div>
  );
}

// DayChart draws executions per day as columns, the failed part in red.
function DayChart({ days }) {
  const max = Math.max(1, ...days.map((d) => d.total));
  return (
    <div class="days" role="img" aria-label={days.map((d) => `${d.day.toLocaleDateString()}: ${d.total} executions, ${d.failed} failed`).join('; ')}>
      {days.map((d) => (
        <div class="day" title={`${d.total} executions, ${d.failed} failed`}>
          <div class="col">
            <div class="bar other" style={{ height: ((d.total - d.failed) / max) * 100 + '%' }} />
            <div class="bar state-FAILED" style={{ height: (d.failed / max) * 100 + '%' }} />
          </div>
          <span class="n">{d.total}</span>
          <span class="muted">{d.day.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric' })}</span>
        </div>
      ))}
    </div>
  );
}

// sumStates adds up the days' counts by state; RUNNING is the running count.
function sumStates(days, running) {
  const c = {};
  for (const d of days) for (const [s, n] of Object.entries(d.executionCounts)) c[s] = (c[s] || 0) + n;
  c.RUNNING = running;
  return c;
}

// localISO writes a date as RFC 3339 at the browser's offset, so the
// server counts the browser's days.
function localISO(d) {
  const p = (n) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${off < 0 ? '-' : '+'}${p(Math.floor(a / 60))}:${p(a % 60)}`;
}
