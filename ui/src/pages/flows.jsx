import { useEffect, useRef, useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { Link, navigate } from '../router.jsx';
import { useLoad, StateBadge, ErrorBox, Loading, fmtDate } from '../components.jsx';
import { ExecuteDialog } from './execute.jsx';
import { Topology, Revisions, Triggers } from './flowtabs.jsx';

const NEW_FLOW = `id: hello
namespace: company.team

inputs:
  - id: name
    type: STRING
    defaults: world

tasks:
  - id: greet
    type: io.kestra.plugin.core.log.Log
    message: "Hello, {{ inputs.name }}!"
`;

// FlowsPage lists flows with a namespace tree, a search box and each
// flow's last execution state.
export function FlowsPage() {
  const params = new URLSearchParams(location.search);
  const [q, setQ] = useState(params.get('q') || '');
  const [ns, setNs] = useState(params.get('namespace') || '');
  const [page, setPage] = useState(1);
  const size = 25;
  const flows = useLoad(() => api(`/flows/search?size=${size}&page=${page}` + (q ? '&q=' + enc(q) : '') + (ns ? '&namespace=' + enc(ns) : '')), [q, ns, page]);
  const nsList = useLoad(() => api('/flows/distinct-namespaces'), []);
  const [last, setLast] = useState(null);
  useEffect(() => {
    if (!flows.data || !flows.data.results.length) return;
    // the last execution of every flow on the page, in one call
    let live = true;
    api('/executions/latest', { method: 'POST', body: flows.data.results.map((f) => ({ namespace: f.namespace, id: f.id })) })
      .then((list) => live && setLast(Object.fromEntries(list.map((l) => [l.namespace + '/' + l.flowId, l]))), () => {});
    return () => { live = false; };
  }, [flows.data]);
  const namespaces = nsList.data || [];
  return (
    <div class="page">
      <header class="bar">
        <h1>Flows</h1>
        <div class="grow" />
        <Link href="/ui/main/flows/create" class="button primary">Create flow</Link>
      </header>
      <div class="split">
        <aside class="tree card" aria-label="Namespaces">
          <button type="button" class={'tree-item' + (ns === '' ? ' active' : '')} onClick={() => { setNs(''); setPage(1); }}>All namespaces</button>
          {namespaces.map((n) => (
            <button type="button" class={'tree-item' + (ns === n ? ' active' : '')} style={{ paddingLeft: 8 + 12 * (n.split('.').length - 1) + 'px' }} onClick={() => { setNs(n); setPage(1); }}>{n}</button>
          ))}
        </aside>
        <section class="grow">
          <div class="filters">
            <label class="inline">Search<input type="search" value={q} placeholder="flow id or namespace" onInput={(e) => { setQ(e.target.value); setPage(1); }} /></label>
          </div>
          <ErrorBox error={flows.error} />
          {flows.loading && !flows.data ? <Loading /> : flows.data && (
            <>
              <table class="table" aria-label="Flows">
                <thead><tr><th>Id</th><th>Namespace</th><th>Revision</th><th>Last execution</th><th><span class="sr">Actions</span></th></tr></thead>
                <tbody>
                  {flows.data.results.map((f) => {
                    const l = last && last[f.namespace + '/' + f.id];
                    return (
                      <tr>
                        <td><Link href={`/ui/main/flows/edit/${enc(f.namespace)}/${enc(f.id)}`}>{f.id}</Link>{f.disabled && <span class="badge">disabled</span>}</td>
                        <td>{f.namespace}</td>
                        <td>{f.revision}</td>
                        <td>{l ? <Link href={`/ui/main/executions/${enc(l.namespace)}/${enc(l.flowId)}/${enc(l.id)}`}><StateBadge state={l.status} /> <span class="muted">{fmtDate(l.startDate)}</span></Link> : <span class="muted">{last ? 'never' : ''}</span>}</td>
                        <td><Link href={`/ui/main/flows/edit/${enc(f.namespace)}/${enc(f.id)}/execute`} class="button small">Execute</Link></td>
                      </tr>
                    );
                  })}
                  {flows.data.results.length === 0 && <tr><td colSpan={5} class="muted">No flow matches. <Link href="/ui/main/flows/create">Create one</Link>.</td></tr>}
                </tbody>
              </table>
              <Pager page={page} size={size} total={flows.data.total} onPage={setPage} />
            </>
          )}
        </section>
      </div>
    </div>
  );
}

export function Pager({ page, size, total, onPage }) {
  const pages = Math.max(1, Math.ceil(total / size));
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>Previous</button>
      <span>Page {page} of {pages} · {total} in all</span>
      <button type="button" disabled={page >= pages} onClick={() => onPage(page + 1)}>Next</button>
    </nav>
  );
}

let schemaCache = null;
function loadSchema() {
  if (!schemaCache) schemaCache = api('/plugins/schemas/flow').catch(() => { schemaCache = null; return null; });
  return schemaCache;
}

// FlowPage edits a flow (or creates one): the YAML editor validates as
// you type, Save stores a new revision, Execute opens the inputs form.
export function FlowPage({ namespace, id, tab }) {
  const isNew = !id;
  const view_ = ['topology', 'revisions', 'triggers'].includes(tab) ? tab : 'edit';
  const host = useRef(null);
  const view = useRef(null);
  const schema = useRef(null);
  const [src, setSrc] = useState(null);
  const [flow, setFlow] = useState(null);
  const [problems, setProblems] = useState([]);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState('');
  const [dirty, setDirty] = useState(false);
  const srcRef = useRef('');
  useEffect(() => {
    let live = true;
    import('../editor.js'); // fetched while the flow loads
    loadSchema().then((s) => { schema.current = s; });
    if (isNew) { setSrc(NEW_FLOW); return; }
    api(`/flows/${enc(namespace)}/${enc(id)}?source=true`).then((f) => { if (live) { setFlow(f); setSrc(f.source || ''); } }, (e) => live && setError(e));
    return () => { live = false; };
  }, [namespace, id]);
  const save = async () => {
    setError(null); setSaved('');
    try {
      const body = srcRef.current;
      const f = isNew
        ? await api('/flows', { method: 'POST', body, type: 'application/x-yaml' })
        : await api(`/flows/${enc(namespace)}/${enc(id)}`, { method: 'PUT', body, type: 'application/x-yaml' });
      setFlow(f); setDirty(false);
      setSaved(`Saved revision ${f.revision}`);
      if (isNew || f.id !== id || f.namespace !== namespace) navigate(`/ui/main/flows/edit/${enc(f.namespace)}/${enc(f.id)}`, true);
    } catch (e) { setError(e); }
  };
  const saveRef = useRef(save);
  saveRef.current = save;
  useEffect(() => {
    if (src === null || !host.current) return;
    srcRef.current = src;
    let v;
    import('../editor.js').then(({ createEditor }) => {
      v = createEditor({
        parent: host.current, doc: src,
        onChange: (s) => { srcRef.current = s; setDirty(true); setSaved(''); },
        validate: async (s) => {
          const r = await api('/flows/validate', { method: 'POST', body: s, type: 'application/x-yaml' });
          const list = [];
          for (const x of r || []) for (const d of x.details || []) list.push(d);
          setProblems(list);
          return r;
        },
        getSchema: () => schema.current,
        onSave: () => saveRef.current(),
      });
      view.current = v;
      // Scripts (and the browser tests) reach the editor as a paste would.
      host.current.editorView = v;
    });
    return () => { v && v.destroy(); };
  }, [src === null]);
  const goto = (d) => {
    const v = view.current;
    if (!v) return;
    const line = v.state.doc.line(Math.min(Math.max(d.line || 1, 1), v.state.doc.lines));
    v.dispatch({ selection: { anchor: line.from + Math.max((d.column || 1) - 1, 0) }, scrollIntoView: true });
    v.focus();
  };
  return (
    <div class="page">
      <header class="bar">
        <h1>{isNew ? 'New flow' : <><span class="muted">{namespace} /</span> {id}</>}</h1>
        {flow && <span class="badge" title="Revision">rev {flow.revision}</span>}
        <div class="grow" />
        {saved && <span class="ok" role="status">{saved}</span>}
        {!isNew && <Link href={`/ui/main/executions?namespace=${enc(namespace)}&flowId=${enc(id)}`} class="button">Executions</Link>}
        {!isNew && <Link href={`/ui/main/flows/edit/${enc(namespace)}/${enc(id)}/execute`} class="button" aria-disabled={dirty}>Execute</Link>}
        <button type="button" class="primary" onClick={save} title="Ctrl+S">Save{dirty ? ' *' : ''}</button>
      </header>
      {!isNew && (
        <nav class="tabs" role="tablist" aria-label="Flow views">
          {[['edit', 'Editor'], ['topology', 'Topology'], ['revisions', 'Revisions'], ['triggers', 'Triggers']].map(([k, label]) => (
            <Link href={`/ui/main/flows/edit/${enc(namespace)}/${enc(id)}` + (k === 'edit' ? '' : '/' + k)} role="tab" aria-selected={view_ === k} class={view_ === k ? 'active' : ''}>{label}</Link>
          ))}
        </nav>
      )}
      <ErrorBox error={error} />
      {error && error.body && error.body.details && (
        <ul class="problems">{error.body.details.map((d) => <li>Line {d.line}: {d.path ? d.path + ': ' : ''}{d.message}</li>)}</ul>
      )}
      <div style={{ display: view_ === 'edit' ? 'contents' : 'none' }}>
        <div class="editor card" ref={host} data-testid="editor" />
        <section class="problems-panel" aria-live="polite" aria-label="Validation">
          {problems.length === 0 ? <span class="ok">✓ Valid</span> : (
            <ul class="problems">
              {problems.map((d) => <li><button type="button" class="link" onClick={() => goto(d)} data-line={d.line}>Line {d.line}, column {d.column}</button>: {d.path ? d.path + ': ' : ''}{d.message}</li>)}
            </ul>
          )}
        </section>
      </div>
      {view_ === 'topology' && flow && <Topology flow={flow} />}
      {view_ === 'revisions' && <Revisions key={flow && flow.revision} namespace={namespace} id={id} />}
      {view_ === 'triggers' && <Triggers namespace={namespace} id={id} />}
      {tab === 'execute' && flow && <ExecuteDialog flow={flow} onClose={() => navigate(`/ui/main/flows/edit/${enc(namespace)}/${enc(id)}`, true)} />}
    </div>
  );
}
