// Rule packs (versions, which nodes run them, diffs, deploy now) and the
// nodes page.

import {
  api, appPath, query, session, h, fill, link, route, badge, table, panel, pageHead,
  time, ago, num, act, flash,
} from './lib.js';

export async function render(ctx) {
  if (!session.app) {
    fill(ctx.view, pageHead('Rule packs'), h('p', { class: 'dim' }, 'No application yet.'));
    return;
  }
  const [packs, nodes] = await Promise.all([
    api('GET', appPath('/packs')),
    api('GET', appPath('/nodes')),
  ]);
  if (!ctx.alive()) return;

  const selected = ctx.id !== undefined ? Number(ctx.id) : (packs[0] ? packs[0].version : null);
  const deploy = h('button', {
    type: 'button', class: 'primary', 'data-test': 'deploy-pack', disabled: !session.isAdmin,
    title: session.isAdmin ? 'Build a rule pack from the current rules and publish it' : 'Only admins can deploy',
  }, 'Deploy now');
  deploy.addEventListener('click', () => act(deploy, async () => {
    const res = await api('POST', appPath('/packs'));
    if (!ctx.alive()) return;
    flash(res && res.version !== null && res.version !== undefined
      ? `Rule pack v${res.version} published; nodes pick it up on their next poll.`
      : 'Nothing changed since the last rule pack: no new version.');
    ctx.go(res && res.version ? route('packs', res.version) : '#/packs');
  }, 'Deploying'));

  const latest = packs.find((p) => p.published);
  const behind = nodes.filter((n) => latest && n.rule_pack_version !== latest.version);
  const diffBox = h('div', { 'data-test': 'pack-diff' }, h('p', { class: 'dim small' }, 'Loading the changes…'));

  fill(ctx.view,
    pageHead(`Rule packs · ${session.app}`, deploy),
    h('p', { class: 'dim', 'data-test': 'pack-summary' },
      latest ? `Latest published: v${latest.version}. ` : 'No rule pack published yet. ',
      nodes.length
        ? (behind.length ? `${behind.length} of ${nodes.length} nodes run an older version.` : `All ${nodes.length} nodes run it.`)
        : 'No node has enrolled yet.'),
    table([
      { title: 'Version', cell: (p) => link(route('packs', p.version), `v${p.version}`, { 'data-test': 'pack-link' }) },
      { title: 'Published', cell: (p) => (p.published ? [badge('published'), ' ', time(p.published_at)] : badge('not published', 'muted')) },
      { title: 'Built', cell: (p) => time(p.created_at) },
      { title: 'Rules', class: 'num', cell: (p) => num(p.rules) },
      { title: 'Nodes running it', cell: (p) => ((p.nodes || []).length
        ? (p.nodes || []).map((n) => badge(n, 'good', { 'data-test': 'pack-node' }))
        : h('span', { class: 'dim' }, '—')) },
      { title: 'Digest', cell: (p) => h('code', { class: 'digest', title: p.digest }, String(p.digest || '').slice(0, 12)) },
    ], packs, {
      test: 'packs',
      empty: 'No rule pack yet.',
      rowAttrs: (p) => ({ 'data-test': 'pack-row', 'data-version': p.version, class: p.version === selected ? 'selected' : '' }),
    }),
    panel(selected !== null ? `Changes in v${selected}` : 'Changes', diffBox),
    panel('Nodes', nodesTable(nodes)));

  if (selected !== null && !Number.isNaN(selected)) {
    const from = ctx.params.get('from');
    const d = await api('GET', appPath(`/packs/${selected}/diff${query({ from })}`));
    if (!ctx.alive()) return;
    fill(diffBox, diffView(d));
  } else {
    fill(diffBox, h('p', { class: 'dim' }, 'Nothing to compare.'));
  }
}

function diffView(d) {
  const head = h('p', { class: 'dim small' }, d.from === null || d.from === undefined
    ? `v${d.to} is the first version: every rule is new.`
    : `From v${d.from} to v${d.to}.`);
  const added = d.added || [];
  const removed = d.removed || [];
  const changed = d.changed || [];
  if (!added.length && !removed.length && !changed.length) return [head, h('p', { class: 'dim' }, 'No rule changed.')];
  return [
    head,
    added.map((r) => h('details', { class: 'diff diff-added', 'data-test': 'diff-added' },
      h('summary', null, badge('added', 'good'), ' ', h('code', null, r.id)),
      h('pre', { class: 'code' }, r.source))),
    removed.map((r) => h('details', { class: 'diff diff-removed', 'data-test': 'diff-removed' },
      h('summary', null, badge('removed', 'bad'), ' ', h('code', null, r.id)),
      h('pre', { class: 'code' }, r.source))),
    changed.map((r) => h('details', { class: 'diff diff-changed', 'data-test': 'diff-changed' },
      h('summary', null, badge('changed', 'warn'), ' ', h('code', null, r.id)),
      lineDiff(r.before || '', r.after || ''))),
  ];
}

/** A line diff of two texts (longest common subsequence; rules are short). */
function lineDiff(before, after) {
  const a = before.split('\n');
  const b = after.split('\n');
  if (a.length * b.length > 250_000) {
    return h('div', { class: 'columns' }, h('pre', { class: 'code' }, before), h('pre', { class: 'code' }, after));
  }
  const L = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      L[i][j] = a[i] === b[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(h('span', { class: 'dl-same' }, `  ${a[i]}`));
      i++;
      j++;
    } else if (j < b.length && (i >= a.length || L[i][j + 1] >= L[i + 1][j])) {
      out.push(h('span', { class: 'dl-add' }, `+ ${b[j]}`));
      j++;
    } else {
      out.push(h('span', { class: 'dl-del' }, `- ${a[i]}`));
      i++;
    }
  }
  return h('pre', { class: 'code line-diff' }, out);
}

// ---------------------------------------------------------------------------
// Nodes

function counters(c) {
  if (!c || typeof c !== 'object') return h('span', { class: 'dim' }, '—');
  const entries = Object.entries(c).filter(([, v]) => v === null || typeof v !== 'object');
  const nested = Object.entries(c).filter(([, v]) => v !== null && typeof v === 'object');
  return h('dl', { class: 'counters' },
    entries.map(([k, v]) => [h('dt', null, k.replace(/_/g, ' ')), h('dd', null, typeof v === 'number' ? num(v) : String(v))]),
    nested.map(([k, v]) => [h('dt', null, k.replace(/_/g, ' ')), h('dd', null, h('code', { class: 'small' }, JSON.stringify(v)))]));
}

function nodesTable(nodes) {
  return table([
    { title: 'Node', cell: (n) => h('strong', { 'data-test': 'node-name' }, n.name) },
    { title: 'Health', cell: (n) => badge(n.health, undefined, { 'data-test': 'node-health' }) },
    { title: 'Version', cell: (n) => n.version || '—' },
    { title: 'Rule pack', cell: (n) => h('span', { 'data-test': 'node-pack' },
      n.rule_pack_version === null || n.rule_pack_version === undefined ? '—' : `v${n.rule_pack_version}`) },
    { title: 'Last heartbeat', cell: (n) => [time(n.last_heartbeat_at), h('div', { class: 'dim small' }, ago(n.last_heartbeat_at))] },
    { title: 'Enrolled', cell: (n) => time(n.enrolled_at) },
    { title: 'Counters', class: 'wrap', cell: (n) => counters(n.counters) },
  ], nodes, {
    test: 'nodes',
    empty: 'No node has enrolled yet.',
    rowAttrs: (n) => ({ 'data-test': 'node-row', 'data-name': n.name, 'data-pack': n.rule_pack_version ?? '' }),
  });
}

/** The nodes page; refreshes every 10 s while visible. */
export async function renderNodes(ctx) {
  if (!session.app) {
    fill(ctx.view, pageHead('Nodes'), h('p', { class: 'dim' }, 'No application yet.'));
    return;
  }
  const box = h('div');
  const stamp = h('span', { class: 'dim small', 'data-test': 'nodes-updated' });
  fill(ctx.view, pageHead(`Nodes · ${session.app}`, stamp), box);
  const load = async () => {
    const nodes = await api('GET', appPath('/nodes'));
    if (!ctx.alive()) return;
    fill(box, nodesTable(nodes));
    stamp.textContent = `updated ${new Date().toLocaleTimeString()}`;
  };
  await load();
  ctx.every(10_000, () => load().catch(() => {}));
}
