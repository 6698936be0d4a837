import { useEffect, useState } from 'preact/hooks';

// A router over the History API: routes are Kestra's /ui/main/… paths.
export function navigate(to, replace) {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function usePath() {
  const [path, setPath] = useState(location.pathname + location.search);
  useEffect(() => {
    const on = () => setPath(location.pathname + location.search);
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return path;
}

// match returns the decoded parameters of pattern (":name" segments) in
// path, or null.
export function match(pattern, path) {
  const p = pattern.split('/');
  const s = path.split('?')[0].replace(/\/$/, '').split('/');
  if (p.length !== s.length) return null;
  const out = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) out[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return out;
}

// Link is an anchor that routes in the page and still opens in a new tab.
export function Link({ href, children, ...rest }) {
  const click = (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={click} {...rest}>{children}</a>;
}
