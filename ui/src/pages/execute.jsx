import { useState, useEffect, useRef } from 'preact/hooks';
import { api, enc } from '../api.js';
import { navigate } from '../router.jsx';
import { ErrorBox } from '../components.jsx';

// Field renders the control of one input from its declared type.
export function Field({ input }) {
  const type = (input.type || 'STRING').toUpperCase();
  const name = input.id;
  const req = input.required !== false && input.defaults === undefined;
  const def = input.defaults === undefined || input.defaults === null ? '' : typeof input.defaults === 'object' ? JSON.stringify(input.defaults, null, 2) : String(input.defaults);
  const common = { name, id: 'input-' + name, required: req, 'aria-describedby': input.description ? 'desc-' + name : undefined };
  let control;
  switch (type) {
    case 'INT': control = <input type="number" step="1" min={input.min} max={input.max} defaultValue={def} {...common} />; break;
    case 'FLOAT': control = <input type="number" step="any" min={input.min} max={input.max} defaultValue={def} {...common} />; break;
    case 'BOOLEAN': case 'BOOL':
      control = <select {...common} defaultValue={def || 'false'}><option value="true">true</option><option value="false">false</option></select>; break;
    case 'SECRET': control = <input type="password" autocomplete="new-password" defaultValue="" {...common} />; break;
    case 'DATETIME': control = <input type="text" placeholder="2024-01-31T10:00:00Z" defaultValue={def} {...common} />; break;
    case 'DATE': control = <input type="date" defaultValue={def} {...common} />; break;
    case 'TIME': control = <input type="time" step="1" defaultValue={def} {...common} />; break;
    case 'EMAIL': control = <input type="email" defaultValue={def} {...common} />; break;
    case 'URI': control = <input type="url" defaultValue={def} {...common} />; break;
    case 'FILE': control = <input type="file" {...common} />; break;
    case 'JSON': case 'YAML': case 'ARRAY':
      control = <textarea rows={4} class="mono" defaultValue={def} {...common} />; break;
    case 'ENUM': case 'SELECT': case 'MULTISELECT': {
      const values = Array.isArray(input.values) ? input.values : [];
      if (values.length) {
        control = <select multiple={type === 'MULTISELECT'} defaultValue={def} {...common}>{values.map((v) => <option value={v}>{v}</option>)}</select>;
        break;
      }
    }
    // fall through: a list computed from an expression is typed in
    default: control = <input type="text" pattern={input.validator} defaultValue={def} {...common} />;
  }
  return (
    <div class="field">
      <label for={'input-' + name}>{input.displayName || name} <span class="muted">{type}{req ? ' · required' : ''}</span></label>
      {control}
      {input.description && <small id={'desc-' + name} class="muted">{input.description}</small>}
    </div>
  );
}

// ExecuteDialog is the form generated from the flow's inputs; it starts
// the execution and goes straight to its page.
export function ExecuteDialog({ flow, onClose }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const dlg = useRef(null);
  useEffect(() => {
    const d = dlg.current;
    if (d && !d.open) d.showModal();
  }, []);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setError(null);
    const form = new FormData(e.target);
    const body = new FormData();
    const labels = [];
    for (const [k, v] of form.entries()) {
      if (k === '__labels') {
        for (const pair of String(v).split(',').map((s) => s.trim()).filter(Boolean)) labels.push(pair);
        continue;
      }
      if (v instanceof File && v.size === 0 && !v.name) continue;
      if (v === '') continue;
      body.append(k, v);
    }
    const qs = labels.map((l) => 'labels=' + enc(l)).join('&');
    try {
      const ex = await api(`/executions/${enc(flow.namespace)}/${enc(flow.id)}` + (qs ? '?' + qs : ''), { method: 'POST', body });
      navigate(`/ui/main/executions/${enc(ex.namespace)}/${enc(ex.flowId)}/${enc(ex.id)}`);
    } catch (err) { setError(err); setBusy(false); }
  };
  return (
    <dialog ref={dlg} class="dialog" aria-labelledby="exec-title" onClose={onClose} onCancel={onClose}>
      <form onSubmit={submit}>
        <h2 id="exec-title">Execute {flow.namespace}.{flow.id}</h2>
        {(flow.inputs || []).map((i) => <Field input={i} />)}
        <div class="field">
          <label for="input-labels">Labels <span class="muted">key:value, comma-separated</span></label>
          <input id="input-labels" name="__labels" placeholder="team:data, env:dev" />
        </div>
        <ErrorBox error={error} />
        {error && error.body && error.body.details && <ul class="problems">{error.body.details.map((d) => <li>{d.path ? d.path + ': ' : ''}{d.message}</li>)}</ul>}
        <div class="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={busy}>Execute</button>
        </div>
      </form>
    </dialog>
  );
}

// findTask looks a task up by id among a flow's tasks and their children.
export function findTask(list, id) {
  for (const t of list || []) {
    if (!t || typeof t !== 'object') continue;
    if (t.id === id) return t;
    for (const k of ['tasks', 'then', 'else', 'errors', 'finally']) {
      const hit = findTask(t[k], id);
      if (hit) return hit;
    }
    if (t.cases && typeof t.cases === 'object') for (const l of Object.values(t.cases)) { const hit = findTask(l, id); if (hit) return hit; }
  }
  return null;
}

// ResumeDialog asks for the paused task's onResume inputs and resumes.
export function ResumeDialog({ ex, onClose, onDone }) {
  const [flow, setFlow] = useState(null);
  const [error, setError] = useState(null);
  const dlg = useRef(null);
  useEffect(() => {
    const d = dlg.current;
    if (d && !d.open) d.showModal();
    api(`/flows/${enc(ex.namespace)}/${enc(ex.flowId)}?revision=${ex.flowRevision}`).then(setFlow, setError);
  }, []);
  const paused = (ex.taskRunList || []).find((t) => t.state.current === 'PAUSED');
  const task = flow && paused ? findTask([].concat(flow.tasks || [], flow.errors || [], flow.finally || []), paused.taskId) : null;
  const inputs = (task && task.onResume) || [];
  const submit = async (e) => {
    e.preventDefault();
    const body = new FormData();
    for (const [k, v] of new FormData(e.target).entries()) if (v !== '' && !(v instanceof File && !v.name)) body.append(k, v);
    try {
      await api('/executions/' + enc(ex.id) + '/resume', { method: 'POST', body });
      onDone();
    } catch (err) { setError(err); }
  };
  return (
    <dialog ref={dlg} class="dialog" aria-labelledby="resume-title" onClose={onClose} onCancel={onClose}>
      <form onSubmit={submit}>
        <h2 id="resume-title">Resume {paused ? paused.taskId : ''}</h2>
        {flow && inputs.length === 0 && <p class="muted">This pause asks for no input.</p>}
        {inputs.map((i) => <Field input={i} />)}
        <ErrorBox error={error} />
        {error && error.body && error.body.details && <ul class="problems">{error.body.details.map((d) => <li>{d.path ? d.path + ': ' : ''}{d.message}</li>)}</ul>}
        <div class="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" class="primary">Resume</button>
        </div>
      </form>
    </dialog>
  );
}
