// Attacks: the searchable list and one attack with its decoded request
// point, the scans and incidents it led to, and "Mark as false positive".

import {
  api, appPath, query, session, h, fill, link, route, badge, table, fields, panel, pageHead,
  time, num, act, showNotice,
} from './lib.js';

const CLASSES = ['sqli', 'xss', 'path_traversal', 'rce', 'ssti', 'ssrf', 'xxe', 'nosqli', 'ldapi', 'crlf', 'scanner', 'protocol'];
const ACTIONS = ['block', 'monitor'];
const PAGE = 50;

export async function render(ctx) {
  if (ctx.id !== undefined) return detail(ctx);
  return list(ctx);
}

// ---------------------------------------------------------------------------
// The list

async function list(ctx) {
  if (!session.app) {
    fill(ctx.view, pageHead('Attacks'), h('p', { class: 'dim' }, 'No application yet.'));
    return;
  }
  const p = ctx.params;
  const filters = { q: p.get('q') || '', class: p.get('class') || '', action: p.get('action') || '' };
  const before = p.get('before') || '';
  const res = await api('GET', appPath(`/attacks${query({ ...filters, limit: PAGE, before })}`));
  if (!ctx.alive()) return;

  const q = h('input', { id: 'attack-q', type: 'search', name: 'q', value: filters.q, placeholder: 'Search endpoint, point, payload, rule, request id' });
  const cls = h('input', { id: 'attack-class', name: 'class', value: filters.class, placeholder: 'any class', list: 'attack-classes', size: 12 });
  const classes = h('datalist', { id: 'attack-classes' }, CLASSES.map((c) => h('option', { value: c })));
  const action = h('select', { id: 'attack-action', name: 'action' },
    h('option', { value: '' }, 'any action'), ACTIONS.map((a) => h('option', { value: a, selected: a === filters.action }, a)));
  const form = h('form', { class: 'filters', 'data-test': 'attack-search', role: 'search' },
    q, cls, classes, action, h('button', { type: 'submit', id: 'attack-search-submit' }, 'Search'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    ctx.go(`#/attacks${query({ q: q.value.trim(), class: cls.value.trim(), action: action.value })}`);
  });

  const items = res.items || [];
  const tbl = table([
    { title: 'Time', cell: (a) => time(a.occurred_at) },
    { title: 'Endpoint', cell: (a) => link(route('attacks', a.id), a.endpoint, { 'data-test': 'attack-link' }) },
    { title: 'Point', cell: (a) => h('code', null, a.point || '—') },
    { title: 'Class', cell: (a) => (a.class ? badge(a.class, 'info') : h('span', { class: 'dim' }, '—')) },
    { title: 'Rule', cell: (a) => h('span', { class: 'small' }, a.rule) },
    { title: 'Score', class: 'num', cell: (a) => num(a.score) },
    { title: 'Action', cell: (a) => badge(a.action) },
    { title: 'Payload', class: 'payload-cell', cell: (a) => h('code', { class: 'payload', title: a.payload }, clip(a.payload, 80)) },
  ], items, {
    test: 'attacks',
    empty: filters.q || filters.class || filters.action ? 'No attack matches.' : 'No attacks recorded yet.',
    rowAttrs: (a) => ({ 'data-test': 'attack-row', 'data-id': a.id, class: 'clickable', onclick: (ev) => {
      if (ev.target.closest('a')) return;
      ctx.go(route('attacks', a.id));
    } }),
  });

  const pager = h('div', { class: 'pager' },
    before ? link(`#/attacks${query(filters)}`, '← Newest', { 'data-test': 'attacks-newest' }) : null,
    res.next_before !== null && res.next_before !== undefined
      ? link(`#/attacks${query({ ...filters, before: res.next_before })}`, 'Older →', { 'data-test': 'attacks-older' })
      : null);

  const exportLink = h('a', {
    href: `/api/v1${appPath(`/attacks/export${query({ format: 'jsonl', limit: 1000 })}`)}`,
    class: 'small', download: `attacks-${session.app}.jsonl`,
  }, 'Export (JSON lines)');
  fill(ctx.view, pageHead(`Attacks · ${session.app}`, exportLink), form, tbl, pager);
}

function clip(text, n) {
  const t = String(text ?? '');
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
}

// ---------------------------------------------------------------------------
// One attack

async function detail(ctx) {
  const d = await api('GET', `/attacks/${encodeURIComponent(ctx.id)}`);
  if (!ctx.alive()) return;
  const a = d.attack;

  const fpBox = h('div', { class: 'fp-box', 'data-test': 'fp-box' });
  const drawFp = (exception, result) => {
    if (exception) {
      fill(fpBox,
        h('p', { 'data-test': 'fp-result' },
          'Marked as a false positive: exception rule ',
          link(route('rules', exception.rule_id), exception.rule_id, { 'data-test': 'fp-rule' }),
          exception.state ? [' (', badge(exception.state), ')'] : null,
          result && result.pack
            ? [', deployed in rule pack ', h('strong', { 'data-test': 'fp-pack-version' }, `v${result.pack.version}`), '. ']
            : (result ? [', no new rule pack was needed. '] : '. '),
          link(route('packs'), 'See the rule packs and nodes →', { 'data-test': 'fp-packs-link' })));
      return;
    }
    const button = h('button', {
      type: 'button', class: 'danger', 'data-test': 'mark-fp', disabled: !session.isAdmin,
      title: session.isAdmin ? 'Create an exception for this class at this point on this endpoint' : 'Only admins can create exceptions',
    }, 'Mark as false positive');
    const note = h('input', { id: 'fp-note', placeholder: 'Note (optional)', disabled: !session.isAdmin });
    button.addEventListener('click', () => act(button, async () => {
      const res = await api('POST', `/attacks/${encodeURIComponent(a.id)}/false-positive`, note.value.trim() ? { note: note.value.trim() } : {});
      if (!ctx.alive()) return;
      const rule = res.rule || {};
      drawFp({ rule_id: rule.id, state: rule.state }, res);
      showNotice(`Exception rule ${rule.id} created${res.pack ? `; rule pack v${res.pack.version} published` : ''}.`);
    }, 'Marking as a false positive'));
    fill(fpBox,
      h('p', { class: 'dim small' }, 'An exception allows this class of attack at this point on this endpoint, from the next rule pack on.'),
      h('div', { class: 'inline-form' }, note, button),
      session.isAdmin ? null : h('p', { class: 'dim small', 'data-test': 'fp-admin-only' }, 'Only admins can mark false positives.'));
  };
  drawFp(d.exception, null);

  fill(ctx.view,
    h('p', { class: 'crumbs' }, link(route('attacks'), '← Attacks')),
    pageHead(`Attack #${a.id}`),
    h('div', { class: 'columns' },
      panel('What happened', fields([
        ['Time', time(a.occurred_at)],
        ['Node', a.node],
        ['Endpoint', h('code', { 'data-test': 'attack-endpoint' }, a.endpoint)],
        ['Point', h('code', { 'data-test': 'attack-point' }, a.point)],
        ['Class', a.class ? badge(a.class, 'info') : null],
        ['Detector / rule', h('code', { 'data-test': 'attack-rule' }, a.rule)],
        ['Score', num(a.score)],
        ['Verdict', badge(a.action, undefined, { 'data-test': 'attack-action' })],
        ['Request id', a.request_id ? h('code', null, a.request_id) : null],
      ])),
      panel('Where the payload was', tree(d.tree || [], a.payload),
        h('h3', null, 'Payload'), h('pre', { class: 'payload-block', 'data-test': 'attack-payload' }, a.payload))),
    panel('False positive?', fpBox),
    panel('Scans of this class at this endpoint and point', table([
      { title: 'Job', cell: (j) => `#${j.id}` },
      { title: 'Class', cell: (j) => (j.class ? badge(j.class, j.class === a.class ? 'info' : 'muted') : '—') },
      { title: 'Payload family', cell: (j) => j.payload_family || '—' },
      { title: 'State', cell: (j) => badge(j.state) },
      { title: 'Attempts', class: 'num', cell: (j) => num(j.attempts) },
      { title: 'Created', cell: (j) => time(j.created_at) },
      { title: 'Last error', class: 'wrap', cell: (j) => j.last_error || '' },
    ], sameFirst(d.scan_jobs || [], (j) => j.payload_family === a.rule), {
      test: 'attack-scans',
      empty: 'No scan was made at this point.',
      rowAttrs: (j) => ({ 'data-test': 'scan-row', class: j.payload_family === a.rule ? 'selected' : '' }),
    })),
    panel('Incidents at this endpoint and point', table([
      { title: 'Incident', cell: (i) => link(route('incidents', i.id), `#${i.id} ${i.title}`, { 'data-test': 'attack-incident' }) },
      { title: 'Severity', cell: (i) => badge(i.severity) },
      { title: 'Status', cell: (i) => badge(i.status) },
      { title: 'Opened', cell: (i) => time(i.created_at) },
    ], d.incidents || [], { test: 'attack-incidents', empty: 'No incident (yet).' })));
}

/** The rows `mine` picks first, the rest after, each in their order. */
function sameFirst(rows, mine) {
  return [...rows.filter(mine), ...rows.filter((r) => !mine(r))];
}

/** The decoded request point, one line per step, the leaf's payload marked. */
function tree(nodes, payload) {
  if (!nodes.length) return h('p', { class: 'dim' }, 'No decoding tree was recorded.');
  const carried = nodes.some((n) => n.payload !== undefined && n.payload !== null);
  return h('ol', { class: 'tree', 'data-test': 'attack-tree' }, nodes.map((n, i) => {
    const depth = Math.max(0, Math.min(20, Number(n.depth) || 0));
    // The leaf carries the payload; without one, the last step shows the attack's.
    const value = n.payload ?? (!carried && i === nodes.length - 1 ? payload : null);
    const li = h('li', { class: `tree-node kind-${String(n.kind || '').replace(/[^a-z_-]/gi, '')}`, 'data-depth': depth },
      h('span', { class: 'tree-kind' }, n.kind),
      h('span', { class: 'tree-label' }, n.label),
      value !== null && value !== undefined ? [' = ', h('mark', { 'data-test': 'tree-payload' }, value)] : null);
    li.style.paddingLeft = `${0.4 + depth * 1.2}rem`;
    return li;
  }));
}
