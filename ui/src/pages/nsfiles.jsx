import { useEffect, useRef, useState } from 'preact/hooks';
import { api, raw, enc } from '../api.js';
import { useLoad, ErrorBox, Loading, fmtDate } from '../components.jsx';

// Files browses a namespace's files (the ones flows read with
// namespaceFiles and read()) and edits one at a time.
export function Files({ namespace }) {
  const [dir, setDir] = useState('/');
  const [open, setOpen] = useState(null); // path of the file in the editor
  const [error, setError] = useState(null);
  const [msg, setMsg] = useState('');
  const list = useLoad(() => api(`/namespaces/${enc(namespace)}/files/directory?path=${enc(dir)}`).catch((e) => (e.status === 404 ? [] : Promise.reject(e))), [namespace, dir]);
  const join = (name) => (dir.endsWith('/') ? dir : dir + '/') + name;
  const create = async (e) => {
    e.preventDefault();
    const name = String(new FormData(e.target).get('name') || '').trim();
    if (!name) return;
    setError(null);
    try {
      const body = new FormData();
      body.append('fileContent', new Blob([''], { type: 'text/plain' }), name);
      await api(`/namespaces/${enc(namespace)}/files?path=${enc(join(name))}`, { method: 'POST', body });
      e.target.reset();
      list.reload();
      setOpen(join(name));
    } catch (err) { setError(err); }
  };
  const del = async (path) => {
    if (!confirm(`Delete ${path}?`)) return;
    try { await api(`/namespaces/${enc(namespace)}/files?path=${enc(path)}`, { method: 'DELETE' }); if (open === path) setOpen(null); list.reload(); setMsg('Deleted ' + path); } catch (e) { setError(e); }
  };
  const entries = Array.isArray(list.data) ? list.data : [];
  return (
    <section class="files">
      <div class="filters">
        <span>Folder <code>{dir}</code></span>
        {dir !== '/' && <button type="button" class="small" onClick={() => setDir(dir.replace(/\/[^/]+\/?$/, '') || '/')}>Up</button>}
        <form class="inline-form" onSubmit={create}><label class="inline">New file<input name="name" placeholder="queries/extract.sql" /></label><button type="submit" class="small">Create</button></form>
        {msg && <span class="ok" role="status">{msg}</span>}
      </div>
      <ErrorBox error={error || list.error} />
      <div class="split">
        <table class="table files-list" aria-label="Namespace files">
          <thead><tr><th>Name</th><th>Size</th><th>Modified</th><th><span class="sr">Actions</span></th></tr></thead>
          <tbody>
            {list.loading && !list.data && <tr><td colSpan={4}><Loading /></td></tr>}
            {entries.map((f) => {
              const path = join(f.fileName);
              return (
                <tr data-file={f.fileName} class={open === path ? 'selected' : ''}>
                  <td>{f.type === 'Directory'
                    ? <button type="button" class="link" onClick={() => setDir(path)}>{f.fileName}/</button>
                    : <button type="button" class="link" onClick={() => setOpen(path)}>{f.fileName}</button>}</td>
                  <td class="muted">{f.type === 'Directory' ? '' : f.size + ' B'}</td>
                  <td class="muted">{f.lastModifiedTime ? fmtDate(f.lastModifiedTime) : ''}</td>
                  <td><button type="button" class="small danger" onClick={() => del(path)} aria-label={'Delete ' + f.fileName}>Delete</button></td>
                </tr>
              );
            })}
            {!list.loading && entries.length === 0 && <tr><td colSpan={4} class="muted">No file here.</td></tr>}
          </tbody>
        </table>
        {open && <FileEditor key={open} namespace={namespace} path={open} onSaved={(m) => { setMsg(m); list.reload(); }} />}
      </div>
    </section>
  );
}

function FileEditor({ namespace, path, onSaved }) {
  const host = useRef(null);
  const text = useRef('');
  const [dirty, setDirty] = useState(false);
  const [error, setError] = useState(null);
  const save = async () => {
    setError(null);
    try {
      const body = new FormData();
      body.append('fileContent', new Blob([text.current], { type: 'application/octet-stream' }), path.split('/').pop());
      await api(`/namespaces/${enc(namespace)}/files?path=${enc(path)}`, { method: 'POST', body });
      setDirty(false);
      onSaved('Saved ' + path);
    } catch (e) { setError(e); }
  };
  const saveRef = useRef(save);
  saveRef.current = save;
  useEffect(() => {
    let v, live = true;
    raw(`/namespaces/${enc(namespace)}/files?path=${enc(path)}`).then(async (content) => {
      const { createFileEditor } = await import('../editor.js');
      if (!live) return;
      text.current = content;
      v = createFileEditor({ parent: host.current, doc: content, name: path, onChange: (s) => { text.current = s; setDirty(true); }, onSave: () => saveRef.current() });
      host.current.editorView = v;
    }, setError);
    return () => { live = false; v && v.destroy(); };
  }, [namespace, path]);
  return (
    <div class="grow file-editor">
      <div class="bar"><code>{path}</code><div class="grow" /><button type="button" class="primary small" onClick={save}>Save{dirty ? ' *' : ''}</button></div>
      <ErrorBox error={error} />
      <div class="editor card" ref={host} data-testid="file-editor" />
    </div>
  );
}

