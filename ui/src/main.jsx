import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { setUnauthorizedHandler, login, logout, loggedIn, api } from './api.js';
import { usePath, match, navigate, Link } from './router.jsx';
import { FlowsPage, FlowPage } from './pages/flows.jsx';
import { ExecutionsPage } from './pages/executions.jsx';
import { ExecutionPage } from './pages/execution.jsx';
import { NamespacesPage, NamespacePage } from './pages/namespaces.jsx';
import { DashboardPage } from './pages/dashboard.jsx';
import './style.css';

// Routes in Kestra's URL scheme, so links from alerts open the same page.
const routes = [
  ['/ui/main/dashboard', DashboardPage],
  ['/ui/main/flows', FlowsPage],
  ['/ui/main/flows/create', FlowPage],
  ['/ui/main/flows/edit/:namespace/:id', FlowPage],
  ['/ui/main/flows/edit/:namespace/:id/:tab', FlowPage],
  ['/ui/main/executions', ExecutionsPage],
  ['/ui/main/executions/:namespace/:flowId/:id', ExecutionPage],
  ['/ui/main/executions/:namespace/:flowId/:id/:tab', ExecutionPage],
  ['/ui/main/namespaces', NamespacesPage],
  ['/ui/main/namespaces/edit/:namespace', NamespacePage],
  ['/ui/main/namespaces/edit/:namespace/:tab', NamespacePage],
];

const pageIds = new Map();

function theme() {
  return localStorage.getItem('osprey.theme') || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
}
document.documentElement.dataset.theme = theme();

function Login({ onDone, failed }) {
  const [user, setUser] = useState('');
  const [pass, setPass] = useState('');
  const [error, setError] = useState(failed ? 'Sign in to continue.' : '');
  const submit = async (e) => {
    e.preventDefault();
    login(user, pass);
    try {
      await api('/flows/search?size=1');
      onDone();
    } catch (err) {
      logout();
      setPass('');
      setError(err.status === 401 ? 'Wrong username or password.' : err.message);
    }
  };
  return (
    <main class="login">
      <form onSubmit={submit} class="card" aria-labelledby="login-title">
        <h1 id="login-title"><span class="logo" aria-hidden="true">◆</span> Osprey</h1>
        <label>Username<input name="username" autocomplete="username" value={user} onInput={(e) => setUser(e.target.value)} required autofocus /></label>
        <label>Password<input name="password" type="password" autocomplete="current-password" value={pass} onInput={(e) => setPass(e.target.value)} required /></label>
        {error && <div class="error" role="alert">{error}</div>}
        <button type="submit" class="primary">Sign in</button>
      </form>
    </main>
  );
}

const nav = [
  ['/ui/main/dashboard', 'Dashboard'],
  ['/ui/main/flows', 'Flows'],
  ['/ui/main/executions', 'Executions'],
  ['/ui/main/namespaces', 'Namespaces'],
];

function App() {
  const path = usePath();
  const [needLogin, setNeedLogin] = useState(false);
  const [th, setTh] = useState(theme());
  const [authKey, setAuthKey] = useState(0);
  useEffect(() => setUnauthorizedHandler(() => setNeedLogin(true)), []);
  useEffect(() => {
    if (path === '/ui/' || path === '/ui' || path === '/ui/main' || path === '/ui/main/') navigate('/ui/main/flows', true);
  }, [path]);
  const toggle = () => {
    const next = th === 'dark' ? 'light' : 'dark';
    localStorage.setItem('osprey.theme', next);
    document.documentElement.dataset.theme = next;
    setTh(next);
  };
  if (needLogin) return <Login failed onDone={() => { setNeedLogin(false); setAuthKey((k) => k + 1); }} />;
  let page = null;
  for (const [pattern, C] of routes) {
    const params = match(pattern, path);
    if (params) {
      // A tab change keeps the page (and its streams); another object remounts it.
      if (!pageIds.has(C)) pageIds.set(C, pageIds.size);
      page = <C key={[pageIds.get(C), params.namespace, params.flowId, params.id, authKey].join('|')} {...params} path={path} />;
      break;
    }
  }
  return (
    <div class="shell">
      <nav class="side" aria-label="Main">
        <Link href="/ui/main/flows" class="brand"><span class="logo" aria-hidden="true">◆</span> Osprey</Link>
        {nav.map(([href, label]) => (
          <Link href={href} class={path.startsWith(href) ? 'active' : ''} aria-current={path.startsWith(href) ? 'page' : undefined}>{label}</Link>
        ))}
        <div class="grow" />
        <button type="button" class="ghost" onClick={toggle} aria-label={'Switch to ' + (th === 'dark' ? 'light' : 'dark') + ' theme'}>{th === 'dark' ? '☀ Light' : '☾ Dark'}</button>
        {loggedIn() && <button type="button" class="ghost" onClick={() => { logout(); setNeedLogin(true); }}>Log out</button>}
      </nav>
      <main class="content" id="content">{page || <div class="card"><h1>Not found</h1><p>No page at {path}. <Link href="/ui/main/flows">Go to flows</Link>.</p></div>}</main>
    </div>
  );
}

render(<App />, document.getElementById('app'));
