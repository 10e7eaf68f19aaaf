// creval leaderboard page. Every piece of data reaches the page through textContent, never parsed as HTML:
// names and model outputs are untrusted text.
'use strict';
const DATA = JSON.parse(document.getElementById('data').textContent);
const B = DATA.board, L = DATA.landing;
const records = c => c.rows.map(r => Object.fromEntries(c.keys.map((k, i) => [k, r[i]])));
B.comparisons = records(DATA.comparisons);
const $ = id => document.getElementById(id);
const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
const isNum = v => typeof v === 'number' && isFinite(v);
const fmt = v => v === null || v === undefined ? 'n/a' : (isNum(v) ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : String(v));
const ARROW = {1: '↑', '-1': '↓', 0: '·'};
const BETTER = {1: 'higher is better', '-1': 'lower is better', 0: 'no direction of better'};

// text that may wrap after _ and - (task names in narrow headers), still only text nodes
function breakable(text) {
  const f = document.createDocumentFragment();
  String(text).split(/(?<=[_-])/).forEach((part, i) => { if (i) f.appendChild(el('wbr')); f.appendChild(document.createTextNode(part)); });
  return f;
}
function swatch(schedule) { const s = el('span', 'swatch'); s.style.background = DATA.colours[schedule] || '#888'; return s; }
function samplesLink(text, schedule, task, step) {
  const a = el('a', null, text);
  a.href = '#samples/' + [schedule, task, step].map(x => encodeURIComponent(String(x))).join('/');
  return a;
}

// --- header and tabs -------------------------------------------------------------------------------
$('subtitle').textContent = `${B.schedules.length} schedules · manifest ${String(B.manifest).split('/').pop()} · diversity statistic ${B.diversity}` +
  (B.incomplete.length ? ` · ${B.incomplete.length} planned cells not done (left out)` : '');
const TABS = ['overview', 'plots', 'comparisons', 'values', 'samples', 'probes'];
const X = DATA.extras;
const some = a => Array.isArray(a) ? a.length > 0 : Boolean(a);  // [] is truthy in JS
$('nav-probes').hidden = !(some(X.probes) || some(X.recommendations) || some(X.unreadable));
const drawn = {};
function route() {
  const parts = location.hash.replace(/^#/, '').split('/').map(decodeURIComponent);
  const tab = TABS.includes(parts[0]) ? parts[0] : 'overview';
  TABS.forEach(t => { $('tab-' + t).hidden = t !== tab; });
  document.querySelectorAll('nav a').forEach(a => { if (a.getAttribute('href') === '#' + tab) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current'); });
  if (tab === 'plots' && !drawn.plots) { drawn.plots = true; DATA.figures.forEach(f => figure($('plots'), f)); }
  if (tab === 'values' && !drawn.values) { drawn.values = true; load('values.js', 'CREVAL_VALUES', $('n-values'), v => values(records(v))); }
  if (tab === 'samples') openSamples(parts.slice(1));
  if (tab === 'probes' && !drawn.probes) { drawn.probes = true; load('extras.js', 'CREVAL_EXTRAS', $('x-status'), extras); }
}
window.addEventListener('hashchange', route);

// data files beside the page, loaded when their tab opens (<script src> works from disk; fetch does not)
function load(file, name, status, done) {
  if (window[name]) { done(window[name]); return; }
  status.textContent = 'loading ' + file + '…';
  const sc = el('script'); sc.src = file;
  sc.onload = () => { status.textContent = ''; done(window[name]); };
  sc.onerror = () => { status.textContent = file + ' is missing beside index.html'; };
  document.body.appendChild(sc);
}

// --- sortable table: numbers by value, n/a always last ---------------------------------------------
function sortable(table, th, col) {
  const button = el('button'); button.append(...th.childNodes); th.appendChild(button);
  button.title = 'sort'; button.addEventListener('click', () => {
    const asc = table.dataset.sort !== 'asc' + col; table.dataset.sort = (asc ? 'asc' : 'desc') + col;
    const body = table.tBodies[0], rows = Array.from(body.rows);
    const key = tr => { const c = tr.cells[col]; return c.dataset.v === undefined || c.dataset.v === '' ? null : (isNaN(Number(c.dataset.v)) ? c.dataset.v : Number(c.dataset.v)); };
    rows.sort((a, b) => { const x = key(a), y = key(b);
      if (x === null || y === null) return (x === null) - (y === null);
      const cmp = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return asc ? cmp : -cmp; });
    rows.forEach(r => body.appendChild(r));
  });
}

// --- landing table ----------------------------------------------------------------------------------
function landing() {
  const t = $('landing'); $('reference').textContent = L.reference || '';
  const head = t.createTHead(), groups = head.insertRow(), tasks = head.insertRow();
  const first = el('th', null, 'schedule'); first.rowSpan = 2; groups.appendChild(first);
  let i = 0;
  while (i < L.columns.length) {
    const c = L.columns[i]; let span = 1;
    while (i + span < L.columns.length && L.columns[i + span].group === c.group) span++;
    const th = el('th'); th.appendChild(breakable(c.group + ' ' + ARROW[c.direction])); th.colSpan = span;
    th.title = `${BETTER[c.direction]}; ${c.unit}; ${c.interval}`; groups.appendChild(th); i += span;
  }
  L.columns.forEach(c => { const th = el('th'); th.appendChild(breakable(c.label)); th.title = `${c.group}: ${BETTER[c.direction]}; ${c.interval}`; tasks.appendChild(th); });
  const body = t.createTBody();
  L.rows.forEach(r => {
    const tr = body.insertRow(); const name = tr.insertCell(); name.className = 'sched';
    name.appendChild(swatch(r.schedule)); name.appendChild(document.createTextNode(r.schedule)); name.dataset.v = r.schedule;
    name.appendChild(el('span', 'ci', `final step ${fmt(r.step)}` + (r.schedule === L.reference ? ' · reference' : '')));
    L.columns.forEach(c => {
      const x = r.entries[c.key] || {}, td = tr.insertCell(); td.className = 'num';
      const text = x.never ? 'none' : (isNum(x.value) && !c.key.startsWith('collapse:') ? x.value.toFixed(3) : fmt(x.value));
      if (c.key.startsWith('final:') && x.value !== null && x.value !== undefined) td.appendChild(samplesLink(text, r.schedule, c.task, x.step));
      else td.appendChild(document.createTextNode(text));
      if (isNum(x.low) && isNum(x.high)) td.appendChild(el('span', 'ci', `[${x.low.toFixed(2)}, ${x.high.toFixed(2)}]`));
      td.dataset.v = x.never ? 1e300 : (isNum(x.value) ? x.value : '');
      if (x.best) td.classList.add('best');
      if (x.reference) td.classList.add('ref');
      if (x.separated === false) td.classList.add('ns');
      const tip = [];
      if (x.reference) tip.push('reference schedule');
      if (x.separated === false) tip.push(`not separated from ${L.reference}` + (isNum(x.p) ? ` (p = ${x.p.toFixed(3)})` : ' (not testable)'));
      if (x.separated === true) tip.push(`separated from ${L.reference} (p = ${fmt(x.p)}, difference ${fmt(x.difference)})`);
      if (x.note) tip.push(x.note);
      if (x.points) tip.push(`${x.points} checkpoints`);
      if (x.never) tip.push('entropy never fell below the collapse threshold');
      td.title = tip.join('; ');
    });
  });
  Array.from(tasks.cells).forEach((th, j) => sortable(t, th, j + 1));
  sortable(t, first, 0);
  const ch = B.diversity_choice || {};
  const thr = B.entropy_threshold;
  $('choice').textContent = `Diversity statistic: ${B.diversity} (${ch.reason || ''}). Collapse step: the first checkpoint whose ` +
    `policy entropy is below ${thr.relative ? Math.round(100 * thr.value) + '% of the first checkpoint\'s' : thr.value + ' nats'}. ` +
    'BWT: the mean change of an earlier stage\'s score by the end of training. Law fit: R = -a exp(H) + b over the checkpoints. ' +
    `Creativity retention: ${B.diversity} at the last checkpoint / at the first. Under BWT and retention: their 95% interval ` +
    'over prompts (BWT: t on one task, else the paired bootstrap; retention: the paired bootstrap).';
}

// --- plots ------------------------------------------------------------------------------------------
function figure(parent, f) {
  parent.appendChild(el('h3', null, f.title));
  if (f.empty) { const e = el('div', 'empty', 'Nothing to plot: ' + f.empty); e.dataset.plot = f.id; parent.appendChild(e); return Promise.resolve(); }
  const d = el('div', 'plot' + (f.panels === 1 ? ' single' : '')); d.id = (parent.id || 'p') + '-' + f.id; d.dataset.plot = f.id; parent.appendChild(d);
  parent.appendChild(el('p', 'caption', f.caption));
  return Plotly.newPlot(d, f.data, f.layout, {displaylogo: false, responsive: true});
}
function legend() {
  B.schedules.forEach(s => { const span = el('span'); span.appendChild(swatch(s)); span.appendChild(document.createTextNode(s)); $('legend').appendChild(span); });
}

// --- filtered tables --------------------------------------------------------------------------------
function filtered(name, columns, items, fields, initial, row) {
  const box = $('f-' + name), table = $(name), selects = {};
  fields.forEach(f => {
    const label = el('label', null, f + ' '), s = el('select'); s.id = `f-${name}-${f}`;
    const values = [...new Set(items.map(x => x[f]))].sort();
    s.appendChild(el('option', null, 'all')).value = '';
    values.forEach(v => { s.appendChild(el('option', null, v)).value = v; });
    if (initial[f] !== undefined && values.includes(initial[f])) s.value = initial[f];
    label.appendChild(s); box.appendChild(label); selects[f] = s; s.addEventListener('change', draw);
  });
  const head = table.createTHead().insertRow();
  columns.forEach((c, j) => { const th = el('th', null, c); head.appendChild(th); sortable(table, th, j); });
  const body = table.createTBody();
  function draw() {
    const shown = items.filter(x => fields.every(f => !selects[f].value || x[f] === selects[f].value));
    body.replaceChildren(...shown.map(row));
    $('n-' + name).textContent = `${shown.length} of ${items.length} rows` + (shown.length < items.length ? ' (change the filters to see more)' : '');
  }
  draw();
}
function numCell(tr, v) { const td = tr.insertCell(); td.className = 'num'; td.textContent = fmt(v); td.dataset.v = isNum(v) ? v : ''; return td; }
function textCell(tr, v) { const td = tr.insertCell(); td.textContent = v; td.dataset.v = v; return td; }

const MAIN = B.comparisons.some(c => c.statistic === 'pass@1') ? 'pass@1' : B.diversity;
function values(rows) {
  filtered('values', ['schedule', 'step', 'stage', 'task', 'statistic', 'mean', 'ci low', 'ci high', 'prompts'],
    rows, ['schedule', 'task', 'statistic'], {statistic: MAIN}, r => {
      const tr = el('tr'); const s = textCell(tr, r.schedule); s.replaceChildren(swatch(r.schedule), document.createTextNode(r.schedule));
      numCell(tr, r.step); textCell(tr, r.stage ?? ''); textCell(tr, r.task); textCell(tr, r.statistic);
      const m = numCell(tr, r.mean); m.replaceChildren(samplesLink(fmt(r.mean), r.schedule, r.task, r.step));
      numCell(tr, r.ci_low); numCell(tr, r.ci_high); numCell(tr, r.n_prompts); return tr; });
}
function comparisons() {
  filtered('comparisons', ['schedule', 'vs', 'task', 'statistic', 'difference', 'ci low', 'ci high', 'prompts', 'p', 'separated from 0'],
    B.comparisons, ['schedule', 'task', 'statistic'], {statistic: MAIN}, c => {
      const tr = el('tr'); const s = textCell(tr, c.schedule); s.replaceChildren(swatch(c.schedule), document.createTextNode(c.schedule));
      textCell(tr, c.baseline); textCell(tr, c.task); textCell(tr, c.statistic);
      [c.difference, c.ci_low, c.ci_high, c.prompts, c.testable ? c.p : null].forEach(v => numCell(tr, v));
      const sep = textCell(tr, c.testable ? (c.separated ? 'yes' : 'no') : 'not testable: ' + c.note);
      if (!c.separated) sep.className = 'ns'; return tr; });
}

// --- sample viewer: samples.js (schedules, prompts) loads when the tab opens, samples-<i>.js (one
// schedule's samples) when that schedule is chosen, so the viewer's weight does not grow with the sweep
let S = null, focusStep;
function withSchedule(name, done) {
  if (S.cells[name]) { done(); return; }
  const i = S.schedules.indexOf(name);
  load(`samples-${i}.js`, `CREVAL_SAMPLES_${i}`, $('s-status'), data => { S.cells[name] = data; done(); });
}
function openSamples(want) {
  if (!S) { load('samples.js', 'CREVAL_SAMPLES', $('s-status'), data => { S = {...data, cells: {}}; initSamples(); openSamples(want); }); return; }
  const [schedule, task, step] = want;
  if (schedule && S.schedules.includes(schedule)) $('s-schedule').value = schedule;
  withSchedule($('s-schedule').value, () => {
    onSchedule();
    if (task && (S.cells[$('s-schedule').value] || {})[task]) { $('s-task').value = task; onTask(); }
    focusStep = step; show();
  });
}
function fill(s, values) { s.replaceChildren(...values.map(v => { const o = el('option', null, v); o.value = v; return o; })); }
function initSamples() {
  fill($('s-schedule'), S.schedules);
  $('s-schedule').onchange = () => withSchedule($('s-schedule').value, () => { onSchedule(); show(); });
  $('s-task').onchange = () => { onTask(); show(); };
  $('s-prompt').onchange = show; $('s-distinct').onchange = show;
}
function onSchedule() { const keep = $('s-task').value; fill($('s-task'), Object.keys(S.cells[$('s-schedule').value] || {})); if (keep) $('s-task').value = keep; if (!$('s-task').value) $('s-task').selectedIndex = 0; onTask(); }
function onTask() { const keep = $('s-prompt').value; fill($('s-prompt'), Object.keys((S.cells[$('s-schedule').value] || {})[$('s-task').value] || {})); if (keep) $('s-prompt').value = keep; if (!$('s-prompt').value) $('s-prompt').selectedIndex = 0; }
function show() {
  const task = $('s-task').value, pid = $('s-prompt').value, view = $('s-view');
  const p = ((S.prompts || {})[task] || {})[pid];
  const why = (S.missing || {})[task];
  $('s-prompt-text').textContent = p ? p.text : `prompt ${pid}: its text is not available${why ? ' (' + why + ')' : ''}`;
  $('s-gold').textContent = p ? (p.gold ?? 'no gold answer (an open-ended task)') : 'n/a';
  const byStep = ((S.cells[$('s-schedule').value] || {})[task] || {})[pid] || {};
  const distinct = $('s-distinct').checked;
  view.replaceChildren(...Object.keys(byStep).sort((a, b) => a - b).map(step => {
    const all = byStep[step], col = el('div', 'col'); col.dataset.step = step;
    if (String(step) === String(focusStep)) col.classList.add('focus');
    col.appendChild(el('h4', null, 'step ' + step));
    const counts = new Map(); all.forEach(s => counts.set(s[0], (counts.get(s[0]) || 0) + 1));
    const correct = all.filter(s => s[1] === 1).length, graded = all.filter(s => s[1] !== null).length;
    col.appendChild(el('div', 'sum', `${all.length} samples, ${counts.size} distinct` + (graded ? `, ${correct} of ${graded} correct` : '')));
    const seen = new Set();
    all.forEach(s => {
      if (distinct) { if (seen.has(s[0])) return; seen.add(s[0]); }
      const box = el('div', 'sample ' + (s[1] === 1 ? 'ok' : s[1] === 0 ? 'bad' : ''));
      const grade = s[1] === 1 ? '✓ correct' : s[1] === 0 ? '✗ wrong' : 'ungraded';
      const parts = [grade]; if (s[2] !== null && s[2] !== undefined) parts.push('answer ' + JSON.stringify(s[2]));
      parts.push('entropy ' + fmt(s[3])); if (s[4]) parts.push(s[4]); if (distinct) parts.push('×' + counts.get(s[0]));
      box.appendChild(el('div', 'meta', parts.join(' · '))); box.appendChild(el('pre', null, s[0])); col.appendChild(box);
    });
    return col;
  }));
  const f = view.querySelector('.focus'); if (f) f.scrollIntoView({block: 'nearest', inline: 'center'});
}

// --- probes and recommendations: extras.js loads when the tab opens ----------------------------------
const HOW = 'No probe or recommendation report in the results folder. `creval probe perturb` writes RESULTS/probes/perturb-*.json ' +
  '(docs/probes.md); `creval recommend` writes RESULTS/recommendations/<manifest>.json (docs/recommend.md); build the leaderboard again to show them.';
function table(parent, spec, id) {
  const t = el('table'); if (id) t.id = id; const head = t.createTHead().insertRow(), body = t.createTBody();
  spec.columns.forEach((c, j) => { const th = el('th', null, c.label); head.appendChild(th); sortable(t, th, j); });
  spec.rows.forEach(r => {
    const tr = body.insertRow();
    spec.columns.forEach((c, j) => {
      const v = r[j];
      if (typeof v === 'string' && c.kind !== 'text' && c.kind !== 'name') { textCell(tr, v).className = 'num'; return; }
      if (c.kind === 'num') { numCell(tr, v); return; }
      if (c.kind === 'ci') {  // [mean, low, high]: the interval under the mean, bracketed (bounds are often negative)
        const td = numCell(tr, v ? v[0] : null);
        if (v && isNum(v[1]) && isNum(v[2])) td.appendChild(el('span', 'ci', `[${v[1].toFixed(3)}, ${v[2].toFixed(3)}]`));
        return;
      }
      const td = textCell(tr, v ?? '');
      if (c.kind === 'name') { td.className = 'sched'; td.replaceChildren(swatch(v), document.createTextNode(v)); }
    });
  });
  const w = el('div', 'wide'); w.appendChild(t); parent.appendChild(w);
}
function extras(x) {
  Object.entries(x.colours).forEach(([n, c]) => { if (!DATA.colours[n]) DATA.colours[n] = c; });
  if (!x.probes.length && !x.recommendations.length) $('x-status').textContent = HOW;
  if (x.unreadable.length) $('x-status').textContent += ` Unreadable report files (left out): ${x.unreadable.join(', ')}.`;
  x.probes.forEach((p, i) => {
    const box = el('div', 'probe'); box.id = 'x-probe-' + i; $('x-probes').appendChild(box);
    box.appendChild(el('h2', null, `Weight-perturbation probe ${i + 1}`));
    box.appendChild(el('p', 'note', `Report ${p.file}: sigma ${p.sigmas.join(', ')} (relative to each tensor's RMS), noise seeds ${p.seeds.join(', ')}, layers ${p.layers}.`));
    figure(box, p.figure);
    box.appendChild(el('h3', null, 'Area under each degradation curve'));
    box.appendChild(el('p', 'key', 'Per prompt, the trapezoid integral of the change over [0, largest sigma] divided by the largest sigma: the mean change over the grid, in the statistic\'s units (more negative agreement or pass@1: more fragile). Mean over prompts, its 95% interval below.'));
    table(box, p.areas, `x-probe-${i}-areas`);
    box.appendChild(el('h3', null, 'Each checkpoint against the first'));
    box.appendChild(el('p', 'key', 'Paired over prompts: the difference of areas with its t interval; sign-flip p-values, two-sided, Holm-adjusted over all rows.'));
    if (p.comparisons.rows.length) table(box, p.comparisons, `x-probe-${i}-comparisons`);
    else box.appendChild(el('p', 'note', 'One checkpoint probed: nothing to compare.'));
  });
  x.recommendations.forEach((r, i) => {
    const box = el('div', 'recommendation'); box.id = 'x-rec-' + i; $('x-recommendations').appendChild(box);
    box.appendChild(el('h2', null, `Schedule recommendation: ${r.manifest}`));
    const best = el('p', 'recommended', 'Recommended order: '); best.appendChild(el('b', null, r.recommended.join(' → '))); box.appendChild(best);
    box.appendChild(el('p', 'verdict', r.verdict));
    const stats = Object.entries(r.statistics).map(([k, v]) => `${k}: ${v}`).join(', ');
    const pilots = Object.entries(r.pilots).map(([d, n]) => `${d} (${(r.domains[d] || []).join(', ')}; ${n} pilot${n === 1 ? '' : 's'})`).join('; ');
    const forget = Object.entries(r.forgetting).map(([d, v]) => `${d} ${fmt(v)}`).join(', ');
    const excluded = Object.entries(r.excluded).map(([t, why]) => `${t}: ${why}`).join('; ');
    box.appendChild(el('p', 'note', `Report ${r.file}. Domains: ${pilots}. Statistics: ${stats}. Forgetting (mean loss others' training costs each domain): ${forget}.` + (excluded ? ` Left out: ${excluded}.` : '')));
    box.appendChild(el('h3', null, 'Every order: predicted finals'));
    box.appendChild(el('p', 'key', 'Predicted final per task (mean over prompts, 95% interval below), the objective (their mean), and the recommended order\'s margin over each order: paired over the pooled prompts; the recommended order is the best of several, so the sign-flip p is two-sided and Bonferroni-adjusted over all pairs of orders, and the t interval is the matching simultaneous one.'));
    table(box, r.orders, `x-rec-${i}-orders`);
    box.appendChild(el('h3', null, 'Evidence: what each pilot did to each task'));
    box.appendChild(el('p', 'key', 'Start and end of each pilot, the change with its paired interval and one-sided sign-flip p-values.'));
    table(box, r.evidence, `x-rec-${i}-evidence`);
  });
}

landing(); legend(); comparisons();
const over = DATA.figures.filter(f => f.id === 'plot-pareto' || f.id === 'plot-correctness');
route();
// the first view is rendered when its plots are: the browser test reads this (milliseconds since navigation)
Promise.all(over.map(f => figure($('overview-plots'), structuredClone(f)))).then(() => { window.CREVAL_RENDERED = performance.now(); });
