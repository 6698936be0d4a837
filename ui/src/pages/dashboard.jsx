import { api, enc } from '../api.js';
import { Link } from '../router.jsx';
import { useLoad, StateBadge, Loading, ErrorBox, fmtDate, fmtDuration, durationOf } from '../components.jsx';

const SHOWN = ['SUCCESS', 'WARNING', 'FAILED', 'KILLED', 'RUNNING'];

// DashboardPage: executions of the last 7 days by state, the failure
// ratio, and what runs now. Each figure is one paged count (size=1), so
// the page costs the same with ten or ten million executions. "Running"
// counts every running execution, however old.
export function DashboardPage() {
  const since = new Date(Date.now() - 7 * 86400e3).toISOString();
  const counts = useLoad(() => Promise.all(SHOWN.map((s) => api(`/executions/search?size=1&state=${s}` + (s === 'RUNNING' ? '' : `&startDate=${enc(since)}`)).then((r) => [s, r.total]))).then(Object.fromEntries), []);
  const recent = useLoad(() => api('/executions/search?size=10'), []);
  // Executions per day, and the failed ones: two paged counts a day.
  const days = useLoad(() => {
    const start = new Date(); start.setHours(0, 0, 0, 0);
    const list = [];
    for (let i = 6; i >= 0; i--) list.push(new Date(start.getTime() - i * 86400e3));
    const count = (from, state) => api(`/executions/search?size=1&startDate=${enc(from.toISOString())}&endDate=${enc(new Date(from.getTime() + 86400e3).toISOString())}` + (state ? '&state=' + state : '')).then((r) => r.total);
    return Promise.all(list.map((d) => Promise.all([count(d), count(d, 'FAILED')]).then(([total, failed]) => ({ day: d, total, failed }))));
  }, []);
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
        {days.data ? <DayChart days={days.data} /> : <Loading />}
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
