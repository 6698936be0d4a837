import { useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { Link } from '../router.jsx';
import { useLoad, ErrorBox, Loading, fmtDate } from '../components.jsx';
import { Files } from './nsfiles.jsx';

// NamespacesPage lists the namespaces that hold flows or secrets.
export function NamespacesPage() {
  const flows = useLoad(() => api('/flows/distinct-namespaces'), []);
  const secrets = useLoad(() => api('/secrets?size=1000').catch(() => ({ results: [] })), []);
  if (flows.loading || secrets.loading) return <div class="page"><h1>Namespaces</h1><Loading /></div>;
  const count = {};
  for (const ns of flows.data || []) {
    const parts = ns.split('.');
    for (let i = 1; i <= parts.length; i++) { const n = parts.slice(0, i).join('.'); count[n] = count[n] || { flows: false, secrets: 0 }; if (i === parts.length) count[n].flows = true; }
  }
  for (const s of secrets.data ? secrets.data.results : []) { if (!s.namespace) continue; count[s.namespace] = count[s.namespace] || { flows: false, secrets: 0 }; count[s.namespace].secrets++; }
  const names = Object.keys(count).sort();
  return (
    <div class="page">
      <header class="bar"><h1>Namespaces</h1></header>
      <ErrorBox error={flows.error} />
      <table class="table" aria-label="Namespaces">
        <thead><tr><th>Namespace</th><th>Flows</th><th>Secrets</th></tr></thead>
        <tbody>
          {names.map((n) => (
            <tr><td style={{ paddingLeft: 8 + 16 * (n.split('.').length - 1) + 'px' }}><Link href={`/ui/main/namespaces/edit/${enc(n)}/secrets`}>{n}</Link></td><td>{count[n].flows ? <Link href={`/ui/main/flows?namespace=${enc(n)}`}>flows</Link> : <span class="muted">—</span>}</td><td>{count[n].secrets}</td></tr>
          ))}
          {names.length === 0 && <tr><td colSpan={3} class="muted">No namespace yet: create a flow first.</td></tr>}
        </tbody>
      </table>
    </div>
  );
}

// NamespacePage: the namespace's secrets (own and inherited, never a
// value) and its KV entries.
export function NamespacePage({ namespace, tab = 'secrets' }) {
  const base = `/ui/main/namespaces/edit/${enc(namespace)}`;
  return (
    <div class="page">
      <header class="bar"><h1><span class="muted">Namespace</span> {namespace}</h1></header>
      <nav class="tabs" role="tablist" aria-label="Namespace views">
        <Link href={base + '/secrets'} role="tab" aria-selected={tab === 'secrets'} class={tab === 'secrets' ? 'active' : ''}>Secrets</Link>
        <Link href={base + '/kv'} role="tab" aria-selected={tab === 'kv'} class={tab === 'kv' ? 'active' : ''}>KV store</Link>
        <Link href={base + '/files'} role="tab" aria-selected={tab === 'files'} class={tab === 'files' ? 'active' : ''}>Files</Link>
        <Link href={`/ui/main/flows?namespace=${enc(namespace)}`}>Flows</Link>
      </nav>
      {tab === 'secrets' && <Secrets namespace={namespace} />}
      {tab === 'kv' && <KV namespace={namespace} />}
      {tab === 'files' && <Files namespace={namespace} />}
    </div>
  );
}

function Secrets({ namespace }) {
  const own = useLoad(() => api(`/namespaces/${enc(namespace)}/secrets?size=1000`), [namespace]);
  const inherited = useLoad(() => api(`/namespaces/${enc(namespace)}/inherited-secrets`).catch(() => ({})), [namespace]);
  const [editing, setEditing] = useState(null); // null, {} (new) or a secret
  const [error, setError] = useState(null);
  const [msg, setMsg] = useState('');
  if (own.loading && !own.data) return <Loading />;
  if (own.error) return <ErrorBox error={own.error} />;
  const ro = own.data.readOnly;
  const del = async (s) => {
    if (!confirm(`Delete secret ${s.key} of ${namespace}?`)) return;
    try { await api(`/namespaces/${enc(namespace)}/secrets/${enc(s.key)}`, { method: 'DELETE' }); setMsg(`Deleted ${s.key}`); own.reload(); } catch (e) { setError(e); }
  };
  const inh = Object.entries(inherited.data || {}).filter(([ns]) => ns !== namespace);
  return (
    <section>
      <div class="filters">
        {ro ? <span class="lock" role="status" data-testid="readonly"><svg aria-hidden="true" width="14" height="14" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" style={{ verticalAlign: "-2px" }}><rect x="4" y="11" width="16" height="10" rx="2" /><path d="M8 11V7a4 4 0 0 1 8 0v4" /></svg> The secret backend is read-only: change secrets where they live.</span>
          : <button type="button" class="primary" onClick={() => { setEditing({}); setMsg(''); }}>Add a secret</button>}
        {msg && <span class="ok" role="status">{msg}</span>}
        <div class="grow" />
        {own.data.backend && <span class="muted" data-testid="backend">Backend <code>{own.data.backend.type}</code>{own.data.backend.location && <> · <code>{own.data.backend.location}</code></>}</span>}
      </div>
      <ErrorBox error={error} />
      {editing && !ro && <SecretForm namespace={namespace} secret={editing} onDone={(m) => { setEditing(null); if (m) { setMsg(m); own.reload(); } }} />}
      <table class="table" aria-label="Secrets">
        <thead><tr><th>Key</th><th>Description</th><th>Tags</th><th>Value</th><th>Updated</th>{!ro && <th><span class="sr">Actions</span></th>}</tr></thead>
        <tbody>
          {own.data.results.map((s) => (
            <tr data-key={s.key}>
              <td><code>{s.key}</code></td><td>{s.description}</td>
              <td>{(s.tags || []).map((t) => <span class="badge">{t.key}={t.value}</span>)}</td>
              <td class="muted">••••••••</td><td class="muted">{fmtDate(s.updated)}</td>
              {!ro && <td class="row-actions"><button type="button" class="small" onClick={() => { setEditing(s); setMsg(''); }} aria-label={'Edit ' + s.key}>Edit</button><button type="button" class="small danger" onClick={() => del(s)} aria-label={'Delete ' + s.key}>Delete</button></td>}
            </tr>
          ))}
          {own.data.results.length === 0 && <tr><td colSpan={6} class="muted">No secret in {namespace}.</td></tr>}
        </tbody>
      </table>
      {inh.length > 0 && (
        <>
          <h2>Inherited</h2>
          <table class="table" aria-label="Inherited secrets">
            <thead><tr><th>Key</th><th>From namespace</th></tr></thead>
            <tbody>{inh.flatMap(([ns, keys]) => keys.map((k) => <tr><td><code>{k}</code></td><td>{ns || '(global)'}</td></tr>))}</tbody>
          </table>
        </>
      )}
    </section>
  );
}

// SecretForm writes a secret; the value field is write-only: it starts
// empty and a PATCH without a value keeps the stored one.
function SecretForm({ namespace, secret, onDone }) {
  const isNew = !secret.key;
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const tags = String(f.get('tags') || '').split(',').map((s) => s.trim()).filter(Boolean).map((p) => { const i = p.indexOf('='); return i < 0 ? { key: p, value: '' } : { key: p.slice(0, i).trim(), value: p.slice(i + 1).trim() }; });
    const value = String(f.get('value') || '');
    try {
      if (isNew) {
        await api(`/namespaces/${enc(namespace)}/secrets`, { method: 'PUT', body: { key: String(f.get('key')), value, description: String(f.get('description') || ''), tags } });
      } else if (value) {
        // a new value writes the secret again (PUT), as Kestra's UI does
        await api(`/namespaces/${enc(namespace)}/secrets`, { method: 'PUT', body: { key: secret.key, value, description: String(f.get('description') || ''), tags } });
      } else {
        await api(`/namespaces/${enc(namespace)}/secrets/${enc(secret.key)}`, { method: 'PATCH', body: { description: String(f.get('description') || ''), tags } });
      }
      e.target.reset();
      onDone(`Saved ${isNew ? String(f.get('key')) : secret.key}`);
    } catch (err) { setError(err); }
  };
  return (
    <form class="card form" onSubmit={submit} aria-label={isNew ? 'New secret' : 'Edit secret ' + secret.key}>
      <div class="field"><label for="secret-key">Key</label><input id="secret-key" name="key" required={isNew} disabled={!isNew} defaultValue={secret.key || ''} pattern="[A-Za-z_][A-Za-z0-9_]*" placeholder="DB_PASSWORD" /></div>
      <div class="field"><label for="secret-value">Value <span class="muted">{isNew ? 'write-only' : 'write-only; leave empty to keep'}</span></label><input id="secret-value" name="value" type="password" autocomplete="new-password" required={isNew} /></div>
      <div class="field"><label for="secret-description">Description</label><input id="secret-description" name="description" defaultValue={secret.description || ''} /></div>
      <div class="field"><label for="secret-tags">Tags <span class="muted">key=value, comma-separated</span></label><input id="secret-tags" name="tags" defaultValue={(secret.tags || []).map((t) => t.key + '=' + t.value).join(', ')} /></div>
      <ErrorBox error={error} />
      <div class="actions"><button type="button" onClick={() => onDone('')}>Cancel</button><button type="submit" class="primary">Save secret</button></div>
    </form>
  );
}

function KV({ namespace }) {
  const kv = useLoad(() => api(`/namespaces/${enc(namespace)}/kv`), [namespace]);
  if (kv.loading && !kv.data) return <Loading />;
  if (kv.error) return <ErrorBox error={kv.error} />;
  const list = Array.isArray(kv.data) ? kv.data : (kv.data && kv.data.results) || [];
  return (
    <table class="table" aria-label="KV entries">
      <thead><tr><th>Key</th><th>Description</th><th>Updated</th><th>Expires</th></tr></thead>
      <tbody>
        {list.map((e) => <tr><td><code>{e.key}</code></td><td>{e.description}</td><td>{fmtDate(e.updateDate || e.updated)}</td><td>{fmtDate(e.expirationDate)}</td></tr>)}
        {list.length === 0 && <tr><td colSpan={4} class="muted">No KV entry in {namespace}.</td></tr>}
      </tbody>
    </table>
  );
}
