// Rules: the list (learned and custom), and the editor with live
// diagnostics from the cloud's checker.

import {
  api, appPath, query, session, h, fill, link, route, badge, table, pageHead, panel,
  time, pct, act, debounce, showNotice, flash, ApiError,
} from './lib.js';

const ORIGINS = ['custom', 'learned'];
const STATES = ['monitoring', 'blocking', 'disabled'];

export async function render(ctx) {
  if (!session.app) {
    fill(ctx.view, pageHead('Rules'), h('p', { class: 'dim' }, 'No application yet.'));
    return;
  }
  if (ctx.id === 'new') return editor(ctx, null);
  if (ctx.id !== undefined) {
    const rule = await api('GET', appPath(`/rules/${encodeURIComponent(ctx.id)}`));
    if (!ctx.alive()) return;
    return editor(ctx, rule);
  }
  return list(ctx);
}

// ---------------------------------------------------------------------------
// The list

async function list(ctx) {
  const origin = ORIGINS.includes(ctx.params.get('origin')) ? ctx.params.get('origin') : '';
  const state = STATES.includes(ctx.params.get('state')) ? ctx.params.get('state') : '';
  const all = await api('GET', appPath('/rules'));
  if (!ctx.alive()) return;
  const rules = all.filter((r) => (!origin || r.origin === origin) && (!state || r.state === state));

  const pickOrigin = h('select', { id: 'rule-origin-filter', 'aria-label': 'Origin' },
    h('option', { value: '' }, 'every origin'), ORIGINS.map((o) => h('option', { value: o, selected: o === origin }, o)));
  const pickState = h('select', { id: 'rule-state-filter', 'aria-label': 'State' },
    h('option', { value: '' }, 'every state'), STATES.map((s) => h('option', { value: s, selected: s === state }, s)));
  const apply = () => ctx.go(`#/rules${query({ origin: pickOrigin.value, state: pickState.value })}`);
  pickOrigin.addEventListener('change', apply);
  pickState.addEventListener('change', apply);
  const newRule = link('#/rules/new', 'New rule', { class: 'button primary', 'data-test': 'new-rule' });

  fill(ctx.view,
    pageHead(`Rules · ${session.app}`, h('span', { class: 'dim small' }, `${rules.length} of ${all.length}`), pickOrigin, pickState,
      session.isAdmin ? newRule : null),
    table([
      { title: 'Rule', cell: (r) => link(route('rules', r.id), r.id, { 'data-test': 'rule-link' }) },
      { title: 'Origin', cell: (r) => badge(r.origin) },
      { title: 'State', cell: (r) => badge(r.state) },
      { title: 'Confidence', class: 'num', cell: (r) => pct(r.confidence) },
      { title: 'Explanation', class: 'wrap', cell: (r) => r.explanation || h('span', { class: 'dim' }, title(r.source)) },
      { title: 'Updated', cell: (r) => time(r.updated_at) },
    ], rules, {
      test: 'rules',
      empty: all.length ? 'No rule matches the filters.' : 'No rules yet: learned rules appear after some traffic.',
      rowAttrs: (r) => ({ 'data-test': 'rule-row', 'data-id': r.id }),
    }));
}

// ---------------------------------------------------------------------------
// The editor

const template = (id) => `rule ${id || 'my-rule'} "What this rule is for" {
    endpoint "/search"
    when contains(lower(query.q), "drop table")
    then block
}
`;

async function editor(ctx, rule) {
  const isNew = rule === null;
  const admin = session.isAdmin;
  const idInput = isNew
    ? h('input', { id: 'rule-id', placeholder: 'rule-id', pattern: '[A-Za-z0-9._-]+', required: true, disabled: !admin })
    : null;
  const source = h('textarea', {
    id: 'rule-source', spellcheck: 'false', autocomplete: 'off', wrap: 'off', rows: 18,
    'aria-label': 'Rule source', 'data-test': 'rule-source',
  });
  source.value = isNew ? template('') : rule.source;
  const gutter = h('pre', { class: 'gutter', 'aria-hidden': 'true' });
  const diagBox = h('div', { class: 'diagnostics', 'data-test': 'rule-diagnostics', 'aria-live': 'polite' });
  const stateSel = h('select', { id: 'rule-state', 'aria-label': 'State', disabled: !admin },
    STATES.map((s) => h('option', { value: s, selected: s === (isNew ? 'monitoring' : rule.state) }, s)));
  const save = h('button', { type: 'button', class: 'primary', id: 'rule-save', 'data-test': 'rule-save', disabled: !admin }, isNew ? 'Create' : 'Save');
  const del = isNew ? null : h('button', { type: 'button', class: 'danger', id: 'rule-delete', 'data-test': 'rule-delete', disabled: !admin }, 'Delete');
  const meta = h('div', { class: 'rule-meta' });

  const drawMeta = (r) => {
    if (!r) return;
    fill(meta, badge(r.origin), ' ', h('span', { 'data-test': 'rule-state-badge' }, badge(r.state)),
      r.confidence !== null && r.confidence !== undefined ? h('span', { class: 'dim small' }, ` confidence ${pct(r.confidence)}`) : null,
      h('span', { class: 'dim small' }, ` · updated `), time(r.updated_at),
      h('p', { class: 'explanation' }, r.explanation || title(r.source)));
  };
  drawMeta(rule);

  // Line numbers beside the text.
  const drawGutter = () => {
    const n = source.value.split('\n').length;
    gutter.textContent = Array.from({ length: n }, (_, i) => String(i + 1)).join('\n');
    gutter.scrollTop = source.scrollTop;
  };
  source.addEventListener('scroll', () => {
    gutter.scrollTop = source.scrollTop;
  });

  // Live diagnostics: the newest check's answer wins.
  let seq = 0;
  const showDiags = (ok, diags) => {
    if (ok && !diags.length) {
      fill(diagBox, h('p', { class: 'diag-ok', 'data-test': 'rule-ok' }, '✓ No problems.'));
      return;
    }
    fill(diagBox, diags.map((d) => {
      const goto = h('button', { type: 'button', class: 'link-button', 'data-test': 'diag-line' }, `line ${d.line}${d.column ? `, column ${d.column}` : ''}`);
      goto.addEventListener('click', () => jumpTo(source, d.line, d.column));
      return h('div', { class: `diag diag-${d.severity || 'error'}`, 'data-test': 'diagnostic' },
        h('div', { class: 'diag-head' }, badge(d.severity || 'error', d.severity === 'warning' ? 'warn' : 'bad'), ' ', goto, ': ', d.message),
        h('pre', { class: 'diag-rendered' }, d.rendered || d.message));
    }));
  };
  const check = debounce(async () => {
    const mine = ++seq;
    const id = isNew ? idInput.value.trim() : rule.id;
    try {
      const res = await api('POST', appPath('/rules/check'), id ? { source: source.value, id } : { source: source.value });
      if (mine !== seq || !ctx.alive()) return;
      showDiags(res.ok, res.diagnostics || []);
    } catch (e) {
      if (mine !== seq || !ctx.alive()) return;
      fill(diagBox, h('p', { class: 'diag-fail' }, `The check failed: ${e.message}`));
    }
  }, 300);
  ctx.onLeave(() => check.cancel());
  let pristine = isNew;
  source.addEventListener('input', () => {
    pristine = false;
    drawGutter();
    fill(diagBox, h('p', { class: 'dim small' }, 'Checking…'));
    check();
  });
  if (idInput) {
    idInput.addEventListener('input', () => {
      if (pristine) {
        source.value = template(idInput.value.trim());
        drawGutter();
      }
      check();
    });
  }

  save.addEventListener('click', () => act(save, async () => {
    const id = isNew ? idInput.value.trim() : rule.id;
    if (!id) throw new Error('The rule needs an id.');
    try {
      const r = await api('PUT', appPath(`/rules/${encodeURIComponent(id)}`), { source: source.value, state: stateSel.value });
      if (!ctx.alive()) return;
      const saved = `Rule ${r.id} saved; it goes out with the next rule pack.`;
      if (isNew) {
        flash(saved);
        ctx.go(route('rules', r.id));
      } else {
        showNotice(saved);
        rule = r;
        drawMeta(r);
        check();
      }
    } catch (e) {
      if (e instanceof ApiError && e.diagnostics.length) showDiags(false, e.diagnostics);
      throw e;
    }
  }, 'Saving the rule'));

  if (!isNew) {
    stateSel.addEventListener('change', () => act(stateSel, async () => {
      const r = await api('POST', appPath(`/rules/${encodeURIComponent(rule.id)}/state`), { state: stateSel.value });
      if (!ctx.alive()) return;
      rule = r;
      drawMeta(r);
      showNotice(`Rule ${r.id} is now ${r.state}.`);
    }, 'Changing the state'));
    del.addEventListener('click', () => {
      // eslint-disable-next-line no-alert
      if (!window.confirm(`Delete rule ${rule.id}?`)) return;
      act(del, async () => {
        await api('DELETE', appPath(`/rules/${encodeURIComponent(rule.id)}`));
        flash(`Rule ${rule.id} deleted.`);
        ctx.go('#/rules');
      }, 'Deleting the rule');
    });
  }

  fill(ctx.view,
    h('p', { class: 'crumbs' }, link(route('rules'), '← Rules')),
    pageHead(isNew ? 'New rule' : `Rule ${rule.id}`, h('label', { class: 'inline' }, 'State ', stateSel), save, del),
    meta,
    isNew ? h('label', { class: 'field' }, 'Id ', idInput) : null,
    h('div', { class: 'editor' }, gutter, source),
    panel('Diagnostics', diagBox),
    admin ? null : h('p', { class: 'dim small' }, 'You can check rules; only admins can save them.'));
  drawGutter();
  fill(diagBox, h('p', { class: 'dim small' }, 'Checking…'));
  check();
}

/** A rule's own title: the string after `rule ID` in its source. */
function title(source) {
  const m = /\brule\s+[^\s"]+\s+"((?:[^"\\]|\\.)*)"/.exec(String(source || ''));
  return m ? m[1].replace(/\\(.)/g, '$1') : '';
}

/** Puts the cursor at a line and column of the textarea. */
function jumpTo(area, line, column) {
  const lines = area.value.split('\n');
  let pos = 0;
  for (let i = 0; i < Math.min(lines.length, Math.max(1, line) - 1); i++) pos += lines[i].length + 1;
  pos += Math.max(0, (column || 1) - 1);
  area.focus();
  area.setSelectionRange(pos, pos);
}
