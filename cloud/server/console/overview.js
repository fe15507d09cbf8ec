// Overview: traffic over time, totals, what is attacked, node health.
// Refreshes every 10 s while the tab is visible.

import {
  api, appPath, query, session, h, fill, link, route, badge, table, panel, pageHead,
  num, ago, plot, bars, showError, clearBanner,
} from './lib.js';

const RANGES = [15, 60, 360, 1440];

export async function render(ctx) {
  if (!session.app) {
    fill(ctx.view, pageHead('Overview'), h('p', { class: 'dim' }, 'No application yet.'));
    return;
  }
  let minutes = Number(ctx.params.get('minutes')) || 60;
  if (!RANGES.includes(minutes)) minutes = 60;

  const rangePick = h('select', { id: 'overview-range', 'aria-label': 'Time range' },
    RANGES.map((m) => h('option', { value: m, selected: m === minutes }, m < 60 ? `${m} min` : `${m / 60} h`)));
  rangePick.addEventListener('change', () => ctx.go(`#/overview?minutes=${rangePick.value}`));
  const stamp = h('span', { class: 'dim small', 'data-test': 'overview-updated' });
  const body = h('div', { class: 'overview' });
  fill(ctx.view, pageHead(`Overview · ${session.app}`, stamp, rangePick), body);

  let failing = false;
  const load = async () => {
    try {
      const o = await api('GET', appPath(`/overview${query({ minutes })}`));
      if (!ctx.alive()) return;
      fill(body, content(o));
      stamp.textContent = `updated ${new Date().toLocaleTimeString()}`;
      if (failing) clearBanner();
      failing = false;
    } catch (e) {
      if (!ctx.alive()) return;
      failing = true;
      showError(e, 'Loading the overview');
    }
  };
  await load();
  ctx.every(10_000, load);
}

function content(o) {
  const series = o.series || [];
  const t = o.totals || {};
  const pts = (k) => series.map((p) => ({ t: p.t, v: Number(p[k]) || 0 }));
  const blockedShare = t.requests ? ` (${((100 * (t.blocked || 0)) / t.requests).toFixed(1)}%)` : '';
  const stat = (label, value, test, extra) => h('div', { class: 'stat' },
    h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value', 'data-test': test }, num(value || 0)),
    extra ? h('div', { class: 'stat-extra' }, extra) : null);
  const span = o.minutes >= 60 ? `${o.minutes / 60} h` : `${o.minutes} min`;

  return [
    h('div', { class: 'stats' },
      stat(`Requests · ${span}`, t.requests, 'total-requests'),
      stat('Blocked', t.blocked, 'total-blocked', blockedShare.trim()),
      stat('Monitored', t.monitored, 'total-monitored'),
      stat('Attacks', t.attacks, 'total-attacks')),
    h('div', { class: 'plots' },
      h('figure', null, h('figcaption', null, 'Requests'), plot(pts('requests'), { title: 'Requests per bucket', kind: 'requests', test: 'plot-requests' })),
      h('figure', null, h('figcaption', null, 'Blocked'), plot(pts('blocked'), { title: 'Blocked requests per bucket', kind: 'blocked', test: 'plot-blocked' })),
      h('figure', null, h('figcaption', null, 'Attacks'), plot(pts('attacks'), { title: 'Attacks per bucket', kind: 'attacks', test: 'plot-attacks' }))),
    h('p', { class: 'dim small' }, `One point per ${o.bucket_secs || 60} s.`),
    h('div', { class: 'columns' },
      panel('Most attacked endpoints',
        bars((o.top_endpoints || []).map((e) => ({ label: e.endpoint, value: e.attacks })),
          { test: 'top-endpoints', empty: 'No attacks in this window.' })),
      panel('Attack classes',
        bars((o.top_classes || []).map((c) => ({ label: c.class, value: c.attacks })),
          { test: 'top-classes', empty: 'No attacks in this window.' }))),
    panel('Nodes', table([
      { title: 'Node', cell: (n) => n.name },
      { title: 'Health', cell: (n) => badge(n.health, undefined, { 'data-test': 'node-health' }) },
      { title: 'Last heartbeat', cell: (n) => ago(n.last_heartbeat_at) },
      { title: 'Rule pack', cell: (n) => (n.rule_pack_version === null || n.rule_pack_version === undefined ? '—' : `v${n.rule_pack_version}`) },
    ], o.nodes || [], { test: 'overview-nodes', empty: 'No node has enrolled yet.' }),
    h('p', { class: 'small' }, link(route('nodes'), 'All node details →'))),
  ];
}
