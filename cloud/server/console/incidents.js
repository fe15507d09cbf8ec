// Incidents: confirmed vulnerabilities, their evidence, status workflow and
// the notifications sent about them.

import {
  api, appPath, query, session, h, fill, link, route, badge, table, fields, panel, pageHead,
  time, pretty, act, showNotice,
} from './lib.js';

const STATUSES = ['open', 'acknowledged', 'resolved', 'false_positive'];

/** The workflow: which buttons a status offers. */
const MOVES = {
  open: [['acknowledged', 'Acknowledge', 'incident-ack'], ['resolved', 'Resolve', 'incident-resolve'], ['false_positive', 'False positive', 'incident-fp']],
  acknowledged: [['resolved', 'Resolve', 'incident-resolve'], ['false_positive', 'False positive', 'incident-fp'], ['open', 'Reopen', 'incident-reopen']],
  resolved: [['open', 'Reopen', 'incident-reopen']],
  false_positive: [['open', 'Reopen', 'incident-reopen']],
};

export async function render(ctx) {
  if (ctx.id !== undefined) return detail(ctx);
  return list(ctx);
}

async function list(ctx) {
  if (!session.app) {
    fill(ctx.view, pageHead('Incidents'), h('p', { class: 'dim' }, 'No application yet.'));
    return;
  }
  const status = STATUSES.includes(ctx.params.get('status')) ? ctx.params.get('status') : '';
  const items = await api('GET', appPath(`/incidents${query({ status })}`));
  if (!ctx.alive()) return;
  const pick = h('select', { id: 'incident-status-filter', 'aria-label': 'Status' },
    h('option', { value: '' }, 'every status'),
    STATUSES.map((s) => h('option', { value: s, selected: s === status }, s.replace('_', ' '))));
  pick.addEventListener('change', () => ctx.go(`#/incidents${query({ status: pick.value })}`));
  fill(ctx.view,
    pageHead(`Incidents · ${session.app}`, pick),
    table([
      { title: '#', cell: (i) => `#${i.id}` },
      { title: 'Incident', cell: (i) => link(route('incidents', i.id), i.title, { 'data-test': 'incident-link' }) },
      { title: 'Severity', cell: (i) => badge(i.severity) },
      { title: 'Status', cell: (i) => badge(i.status) },
      { title: 'Endpoint', cell: (i) => (i.endpoint ? h('code', null, i.endpoint) : '—') },
      { title: 'Point', cell: (i) => (i.point ? h('code', null, i.point) : '—') },
      { title: 'Opened', cell: (i) => time(i.created_at) },
      { title: 'Updated', cell: (i) => time(i.updated_at) },
    ], items, {
      test: 'incidents',
      empty: status ? `No ${status.replace('_', ' ')} incident.` : 'No incidents: nothing has been confirmed vulnerable.',
      rowAttrs: (i) => ({ 'data-test': 'incident-row', 'data-id': i.id, class: 'clickable', onclick: (ev) => {
        if (!ev.target.closest('a')) ctx.go(route('incidents', i.id));
      } }),
    }));
}

async function detail(ctx) {
  const d = await api('GET', `/incidents/${encodeURIComponent(ctx.id)}`);
  if (!ctx.alive()) return;
  const inc = d.incident;

  const statusBadge = h('span', { 'data-test': 'incident-status' });
  const updated = h('span');
  const buttons = h('div', { class: 'actions', 'data-test': 'incident-actions' });
  const drawStatus = (i) => {
    fill(statusBadge, badge(i.status));
    fill(updated, time(i.updated_at));
    fill(buttons, (MOVES[i.status] || MOVES.open).map(([to, label, test]) => {
      const b = h('button', {
        type: 'button', 'data-test': test, disabled: !session.isAdmin,
        class: to === 'acknowledged' || to === 'resolved' ? 'primary' : '',
        title: session.isAdmin ? '' : 'Only admins can change an incident',
      }, label);
      b.addEventListener('click', () => act(b, async () => {
        const res = await api('POST', `/incidents/${encodeURIComponent(i.id)}/status`, { status: to });
        if (!ctx.alive()) return;
        drawStatus(res);
        showNotice(`Incident #${res.id} is now ${String(res.status).replace('_', ' ')}.`);
      }, 'Changing the status'));
      return b;
    }));
  };
  drawStatus(inc);

  const ev = inc.evidence || {};
  const curl = typeof ev.curl === 'string' ? ev.curl : null;
  fill(ctx.view,
    h('p', { class: 'crumbs' }, link(route('incidents'), '← Incidents')),
    pageHead(`Incident #${inc.id}`, buttons),
    h('h2', { class: 'incident-title', 'data-test': 'incident-title' }, inc.title),
    h('div', { class: 'columns' },
      panel('Incident', fields([
        ['Status', statusBadge],
        ['Severity', badge(inc.severity, undefined, { 'data-test': 'incident-severity' })],
        ['Endpoint', inc.endpoint ? h('code', null, inc.endpoint) : null],
        ['Point', inc.point ? h('code', null, inc.point) : null],
        ['Opened', time(inc.created_at)],
        ['Updated', updated],
      ])),
      panel('Payload',
        h('pre', { class: 'payload-block', 'data-test': 'incident-payload' }, inc.payload || '—'),
        curl ? [h('h3', null, 'Reproduce'), h('pre', { class: 'code' }, curl)] : null,
        typeof ev.remediation === 'string' ? [h('h3', null, 'Remediation'), h('p', null, ev.remediation)] : null)),
    panel('Evidence', h('pre', { class: 'json', 'data-test': 'incident-evidence' }, pretty(ev))),
    panel('Notifications', table([
      { title: '#', cell: (n) => `#${n.id}` },
      { title: 'Channel', cell: (n) => n.channel },
      { title: 'State', cell: (n) => badge(n.state) },
      { title: 'Attempts', class: 'num', cell: (n) => String(n.attempts) },
      { title: 'Last error', cell: (n) => n.last_error || '' },
      { title: 'Created', cell: (n) => time(n.created_at) },
      { title: 'Updated', cell: (n) => time(n.updated_at) },
    ], d.notifications || [], { test: 'notifications', empty: 'No notification channel is configured, or none was sent.' })));
}
