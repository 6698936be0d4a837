// The flow editor: CodeMirror 6 with YAML highlighting, completion from the
// server's flow JSON Schema and the server's validation shown at its line.
import { EditorView, keymap, lineNumbers, highlightActiveLine, drawSelection } from '@codemirror/view';
import { EditorState } from '@codemirror/state';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { yaml } from '@codemirror/lang-yaml';
import { HighlightStyle, syntaxHighlighting, indentOnInput, bracketMatching } from '@codemirror/language';
import { autocompletion, completionKeymap } from '@codemirror/autocomplete';
import { linter, lintGutter, lintKeymap } from '@codemirror/lint';
import { tags as t } from '@lezer/highlight';

// Colours come from CSS variables, so one style serves both themes.
const highlight = HighlightStyle.define([
  { tag: [t.propertyName, t.definition(t.propertyName)], color: 'var(--syn-key)' },
  { tag: [t.string, t.special(t.string)], color: 'var(--syn-string)' },
  { tag: [t.number, t.bool, t.null, t.keyword], color: 'var(--syn-literal)' },
  { tag: [t.comment, t.lineComment], color: 'var(--syn-comment)', fontStyle: 'italic' },
  { tag: [t.punctuation, t.separator, t.squareBracket, t.brace], color: 'var(--muted)' },
]);

// Schema navigation ---------------------------------------------------------

function resolve(schema, node) {
  for (let i = 0; node && node.$ref && i < 10; i++) {
    node = schema.definitions[node.$ref.replace('#/definitions/', '')];
  }
  return node || {};
}

// typesOf lists the type names a definition ("task", "trigger") accepts.
function typesOf(schema, def) {
  const out = [];
  for (const c of (schema.definitions[def] || {}).allOf || []) {
    const e = c.if && c.if.properties && c.if.properties.type && c.if.properties.type.enum;
    if (e) out.push({ name: e[0], ref: c.then && c.then.$ref, aliases: e.slice(1) });
  }
  return out;
}

// taskSchema returns the object schema of a task or trigger given its
// type; before the type is written, only id and type are offered.
function taskSchema(schema, def, type) {
  const hit = typesOf(schema, def).find((x) => x.name === type || x.aliases.includes(type));
  return hit ? resolve(schema, { $ref: hit.ref }) : { properties: { id: {}, type: {} } };
}

function propsOf(node) {
  const out = {};
  const add = (n) => { if (n && n.properties) Object.assign(out, n.properties); };
  add(node);
  for (const k of ['anyOf', 'oneOf', 'allOf']) for (const n of node[k] || []) add(n);
  return out;
}

// Which definition the items of a property hold.
function itemDef(schema, node) {
  const items = resolve(schema, node.items || {});
  if (node.items && node.items.$ref) return { def: node.items.$ref.replace('#/definitions/', ''), node: items };
  if (items.allOf && /definitions\/task/.test(JSON.stringify(items))) return { def: 'task', node: items };
  return { def: null, node: items };
}

// Context from the text above the cursor: the chain of keys and list items
// from the root, read from the indentation of earlier lines.
function contextAt(doc, pos) {
  const line = doc.lineAt(pos);
  const cur = line.text.slice(0, pos - line.from);
  const parse = (tx) => {
    const m = tx.match(/^(\s*)(- )?(?:([\w.-]+):)?/);
    return { lead: m[1].length, dash: !!m[2], key: m[3], col: m[1].length + (m[2] ? 2 : 0) };
  };
  // itemType finds "type:" among the keys of the list item starting at line n.
  const itemType = (n, lead) => {
    for (let i = n; i <= doc.lines; i++) {
      const tx = doc.line(i).text;
      if (!tx.trim()) continue;
      const p = parse(tx);
      if (i > n && p.lead <= lead) break;
      const m = tx.match(/^\s*(?:- )?type:\s*(\S+)/);
      if (m && p.col === lead + 2) return m[1];
    }
    return null;
  };
  const chain = [];
  const c = parse(cur);
  let need = c.dash ? c.lead : c.col;
  let inList = c.dash;
  if (c.dash) chain.push({ item: true, type: itemType(line.number, c.lead) });
  for (let n = line.number - 1; n >= 1 && need > 0; n--) {
    const tx = doc.line(n).text;
    if (!tx.trim() || /^\s*#/.test(tx)) continue;
    const p = parse(tx);
    if (inList) {
      if (p.dash && p.lead === need) continue;
      if (p.col > need) continue;
    } else if (p.col >= need) {
      if (p.dash && p.col === need) {
        chain.push({ item: true, type: itemType(n, p.lead) });
        need = p.lead;
        inList = true;
      }
      continue;
    }
    if (!p.key) break;
    chain.push({ key: p.key });
    if (p.dash) {
      chain.push({ item: true, type: itemType(n, p.lead) });
      need = p.lead;
      inList = true;
    } else {
      need = p.col;
      inList = false;
    }
  }
  return chain.reverse();
}

// nodeAt walks the schema along the chain; it returns the object schema
// whose keys may be typed here, and the definition its items belong to.
function nodeAt(schema, chain) {
  let node = schema;
  let def = null;
  for (const c of chain) {
    if (c.item) {
      node = def ? taskSchema(schema, def, c.type) : itemDef(schema, node).node;
      def = null;
      continue;
    }
    const child = resolve(schema, propsOf(node)[c.key] || {});
    const it = itemDef(schema, child);
    def = it.def || (c.key === 'triggers' ? 'trigger' : null);
    node = child;
  }
  return { node, def };
}

function schemaCompletion(getSchema) {
  return (ctx) => {
    const schema = getSchema();
    if (!schema) return null;
    const line = ctx.state.doc.lineAt(ctx.pos);
    const before = line.text.slice(0, ctx.pos - line.from);
    const chain = contextAt(ctx.state.doc, ctx.pos);
    // a value after "type:": the task or trigger types
    const tv = before.match(/^(\s*(?:- )?)type:\s*([\w.]*)$/);
    if (tv) {
      const kind = nodeAt(schema, chain.slice(0, -1)).def || 'task';
      const from = ctx.pos - tv[2].length;
      return { from, options: typesOf(schema, kind).map((x) => ({ label: x.name, type: 'class' })), validFor: /^[\w.]*$/ };
    }
    const kw = before.match(/^(\s*(?:- )?)([\w-]*)$/);
    if (!kw) return null;
    if (!ctx.explicit && kw[2] === '' && !/- $/.test(before)) return null;
    const { node } = nodeAt(schema, chain);
    const props = propsOf(node);
    const taken = new Set();
    const options = Object.keys(props).filter((k) => !taken.has(k)).map((k) => {
      const p = resolve(schema, props[k]);
      const isList = p.type === 'array' || p.items;
      const isObj = p.type === 'object' && !isList;
      return { label: k, type: 'property', apply: k + (isList || isObj ? ':\n' + ' '.repeat(kw[1].length + 2) + (isList ? '- ' : '') : ': '), detail: isList ? 'list' : isObj ? 'object' : '' };
    });
    return { from: ctx.pos - kw[2].length, options, validFor: /^[\w-]*$/ };
  };
}

// validation asks the server for the problems of the document, each placed
// at its line and column.
function validation(validate) {
  return linter(async (view) => {
    const src = view.state.doc.toString();
    let results;
    try { results = await validate(src); } catch { return []; }
    const out = [];
    for (const r of results || []) {
      for (const d of r.details || (r.constraints ? [{ message: r.constraints }] : [])) {
        const ln = Math.min(Math.max(d.line || 1, 1), view.state.doc.lines);
        const line = view.state.doc.line(ln);
        const from = Math.min(line.from + Math.max((d.column || 1) - 1, 0), line.to);
        out.push({ from, to: Math.max(line.to, from), severity: 'error', message: (d.path ? d.path + ': ' : '') + d.message, source: 'line ' + ln });
      }
    }
    return out;
  }, { delay: 300 });
}

// createEditor mounts an editor in parent; onChange gets the text,
// validate(src) answers like POST /flows/validate, getSchema returns the
// flow schema once loaded.
export function createEditor({ parent, doc, onChange, validate, getSchema, onSave, label }) {
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        lineNumbers(), history(), drawSelection(), highlightActiveLine(), indentOnInput(), bracketMatching(),
        yaml(), syntaxHighlighting(highlight), EditorState.tabSize.of(2),
        autocompletion({ override: [schemaCompletion(getSchema)], activateOnTyping: true }),
        validation(validate), lintGutter(),
        keymap.of([{ key: 'Mod-s', run: () => { onSave && onSave(); return true; } }, indentWithTab, ...completionKeymap, ...lintKeymap, ...historyKeymap, ...defaultKeymap]),
        EditorView.contentAttributes.of({ 'aria-label': label || 'Flow source (YAML)' }),
        EditorView.updateListener.of((u) => { if (u.docChanged) onChange(u.state.doc.toString()); }),
      ],
    }),
  });
  return view;
}

// createFileEditor mounts an editor for a namespace file: YAML
// highlighting for .yml/.yaml, plain text otherwise; Ctrl+S saves.
export function createFileEditor({ parent, doc, name, onChange, onSave }) {
  const isYaml = /\.ya?ml$/i.test(name || '');
  return new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        lineNumbers(), history(), drawSelection(), highlightActiveLine(), indentOnInput(), bracketMatching(),
        ...(isYaml ? [yaml()] : []), syntaxHighlighting(highlight), EditorState.tabSize.of(2),
        keymap.of([{ key: 'Mod-s', run: () => { onSave && onSave(); return true; } }, indentWithTab, ...historyKeymap, ...defaultKeymap]),
        EditorView.contentAttributes.of({ 'aria-label': 'Content of ' + (name || 'the file') }),
        EditorView.updateListener.of((u) => { if (u.docChanged) onChange(u.state.doc.toString()); }),
      ],
    }),
  });
}
