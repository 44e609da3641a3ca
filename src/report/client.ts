/**
 * The report page's own style and script, inlined into report.html (no CDN, no framework):
 * canvas scatter with hover and drug search, sortable / filterable / paginated tables.
 * The script reads its data from <script type="application/json" id="phenomap-data"> and exposes
 * its state as `window.__phenomap` (for tests and for curious users in the console).
 * Written as plain ES2017 in a string: it runs in the browser, not in Node.
 */

export const REPORT_CSS = `
:root { --fg:#1d2330; --muted:#5b6474; --line:#d9dee7; --accent:#2f6fb0; --bg:#fafbfc; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color:var(--fg); background:var(--bg); }
header { padding: 18px 28px 10px; background:#fff; border-bottom:1px solid var(--line); }
header h1 { margin:0 0 4px; font-size:22px; }
header .meta { color:var(--muted); font-size:13px; }
nav { position:sticky; top:0; z-index:5; background:#fff; border-bottom:1px solid var(--line); padding:6px 28px; }
nav a { margin-right:16px; color:var(--accent); text-decoration:none; font-size:13px; }
main { padding: 10px 28px 40px; max-width: 1500px; }
section { margin: 22px 0; }
h2 { font-size:18px; border-bottom:1px solid var(--line); padding-bottom:4px; }
table.data { border-collapse:collapse; font-size:13px; background:#fff; }
table.data th, table.data td { border:1px solid var(--line); padding:3px 8px; text-align:left; white-space:nowrap; }
table.data th { background:#eef2f7; cursor:pointer; user-select:none; }
table.data th.sorted-asc::after { content:" \\25B2"; font-size:10px; }
table.data th.sorted-desc::after { content:" \\25BC"; font-size:10px; }
table.data td.num { text-align:right; font-variant-numeric: tabular-nums; }
table.data tr.sig td { background:#fff4e0; }
.tools { margin:6px 0; display:flex; gap:10px; align-items:center; flex-wrap:wrap; }
.tools input[type=search], .tools select { padding:4px 6px; font-size:13px; border:1px solid var(--line); border-radius:4px; }
.tools button { padding:3px 10px; font-size:13px; }
.muted { color:var(--muted); }
.figs { display:flex; flex-wrap:wrap; gap:18px; }
figure { margin:0; background:#fff; border:1px solid var(--line); padding:8px; max-width:100%; }
figure img, figure svg { max-width:100%; height:auto; display:block; }
figcaption { color:var(--muted); font-size:12px; margin-top:4px; }
#scatter-wrap { display:flex; gap:16px; align-items:flex-start; flex-wrap:wrap; }
#scatter-box { position:relative; background:#fff; border:1px solid var(--line); }
#scatter { display:block; cursor:crosshair; }
#tooltip { position:absolute; pointer-events:none; background:rgba(20,24,32,.92); color:#fff; font-size:12px; padding:5px 8px; border-radius:4px; display:none; white-space:nowrap; z-index:3; }
#legend { font-size:12px; max-width:300px; }
#legend div { display:flex; align-items:center; gap:6px; margin:2px 0; }
#legend i { width:11px; height:11px; border-radius:50%; display:inline-block; flex:none; }
#info { font-size:13px; max-width:660px; }
#info .scroll-x { overflow-x:auto; max-width:660px; }
#info .members { max-height:420px; overflow:auto; }
#info table { margin-top:6px; }
.warn { background:#fff4e0; border:1px solid #f0c27b; padding:6px 10px; margin:4px 0; font-size:13px; }
.cand { margin:2px; padding:1px 6px; font-size:12px; }
.verdict { padding:6px 10px; margin:4px 0; border:1px solid var(--line); background:#fff; font-weight:600; }
.verdict.active { border-color:#54a24b; background:#eef8ec; }
.verdict.inactive { border-color:#e45756; background:#fdeeee; }
#info h4 { margin:10px 0 4px; font-size:13px; }
`;

export const REPORT_JS = String.raw`
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('phenomap-data').textContent);
  var PAL10 = ['#4c78a8','#f58518','#e45756','#72b7b2','#54a24b','#eeca3b','#b279a2','#ff9da6','#9d755d','#bab0ac'];
  var PAL20 = ['#1f77b4','#aec7e8','#ff7f0e','#ffbb78','#2ca02c','#98df8a','#d62728','#ff9896','#9467bd','#c5b0d5','#8c564b','#c49c94','#e377c2','#f7b6d2','#7f7f7f','#bcbd22','#dbdb8d','#17becf','#9edae5','#393b79'];
  var OTHER = '#c9c9c9';
  var state = { emb: 0, colour: 'moa', rep: D.compounds ? D.compounds.representations[0] : D.reps[D.reps.length - 1], query: '', drug: null, matched: [], community: [], neighbours: [], clusters: [], answer: null };
  window.__phenomap = state;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) { if (k === 'class') e.className = attrs[k]; else e.setAttribute(k, attrs[k]); }
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fmt(v) {
    if (typeof v === 'number') {
      if (!isFinite(v)) return '';
      if (Number.isInteger(v)) return String(v);
      var a = Math.abs(v);
      return (a !== 0 && (a < 1e-3 || a >= 1e5)) ? v.toExponential(2) : String(Math.round(v * 1e4) / 1e4);
    }
    if (v === null || v === undefined) return '';
    return String(v);
  }

  // ---------------------------------------------------------------- tables
  function makeTable(host, columns, rows, opts) {
    opts = opts || {};
    var pageSize = opts.pageSize || 25, page = 0, sortCol = -1, sortDir = 1, filter = '', view = rows.slice();
    var tools = el('div', { class: 'tools' });
    var search = el('input', { type: 'search', placeholder: 'filter rows…', 'aria-label': 'filter' });
    var count = el('span', { class: 'muted' });
    var prev = el('button', null, '‹ prev'), next = el('button', null, 'next ›');
    var pageLbl = el('span', { class: 'muted' });
    tools.appendChild(search); tools.appendChild(prev); tools.appendChild(pageLbl); tools.appendChild(next); tools.appendChild(count);
    var sigOnly = null;
    if (opts.sigCol !== undefined) {
      var lab = el('label', { class: 'muted' });
      sigOnly = el('input', { type: 'checkbox' });
      lab.appendChild(sigOnly); lab.appendChild(document.createTextNode(' significant only'));
      tools.appendChild(lab);
    }
    var table = el('table', { class: 'data' });
    var thead = el('thead'), tbody = el('tbody'), hr = el('tr');
    columns.forEach(function (c, j) {
      var th = el('th', null, c);
      th.addEventListener('click', function () {
        if (sortCol === j) sortDir = -sortDir; else { sortCol = j; sortDir = 1; }
        Array.prototype.forEach.call(hr.children, function (h) { h.className = ''; });
        th.className = sortDir > 0 ? 'sorted-asc' : 'sorted-desc';
        apply();
      });
      hr.appendChild(th);
    });
    thead.appendChild(hr); table.appendChild(thead); table.appendChild(tbody);
    host.appendChild(tools); host.appendChild(table);
    function apply() {
      var f = filter.toLowerCase();
      view = rows.filter(function (r) {
        if (sigOnly && sigOnly.checked && !r[opts.sigCol]) return false;
        if (!f) return true;
        for (var j = 0; j < r.length; j++) if (String(r[j]).toLowerCase().indexOf(f) >= 0) return true;
        return false;
      });
      if (sortCol >= 0) {
        view.sort(function (a, b) {
          var x = a[sortCol], y = b[sortCol];
          if (typeof x === 'number' && typeof y === 'number') return sortDir * (x - y);
          return sortDir * String(x).localeCompare(String(y), undefined, { numeric: true });
        });
      }
      page = 0; render();
    }
    function render() {
      var pages = Math.max(1, Math.ceil(view.length / pageSize));
      if (page >= pages) page = pages - 1;
      tbody.textContent = '';
      var frag = document.createDocumentFragment();
      view.slice(page * pageSize, (page + 1) * pageSize).forEach(function (r) {
        var tr = el('tr');
        if (opts.sigCol !== undefined && r[opts.sigCol]) tr.className = 'sig';
        r.forEach(function (v) { var td = el('td', typeof v === 'number' ? { class: 'num' } : null, fmt(v)); tr.appendChild(td); });
        frag.appendChild(tr);
      });
      tbody.appendChild(frag);
      pageLbl.textContent = 'page ' + (page + 1) + ' / ' + pages;
      count.textContent = view.length + ' of ' + rows.length + ' rows';
      prev.disabled = page === 0; next.disabled = page >= pages - 1;
    }
    search.addEventListener('input', function () { filter = search.value; apply(); });
    if (sigOnly) sigOnly.addEventListener('change', apply);
    prev.addEventListener('click', function () { page--; render(); });
    next.addEventListener('click', function () { page++; render(); });
    apply();
    return { host: host, view: function () { return view; } };
  }

  [['enrichment', D.enrichment], ['csif', D.csif], ['evaluation', D.evaluation]].forEach(function (p) {
    var host = document.getElementById(p[0] + '-table');
    if (host && p[1] && p[1].rows.length) {
      var sigCol = p[1].columns.indexOf('significant');
      makeTable(host, p[1].columns, p[1].rows, { pageSize: 25, sigCol: sigCol >= 0 ? sigCol : undefined });
    } else if (host) host.appendChild(el('p', { class: 'muted' }, 'No rows.'));
  });

  // ---------------------------------------------------------------- scatter
  var canvas = document.getElementById('scatter');
  if (!canvas || !D.embeddings.length) return;
  var ctx = canvas.getContext('2d');
  var box = document.getElementById('scatter-box'), tip = document.getElementById('tooltip');
  var W = 640, H = 640, PAD = 16, dpr = window.devicePixelRatio || 1;
  canvas.width = W * dpr; canvas.height = H * dpr; canvas.style.width = W + 'px'; canvas.style.height = H + 'px';
  ctx.scale(dpr, dpr);

  var moaTop = {}; D.moaTop.forEach(function (m, i) { moaTop[m] = i; });
  var px = null, py = null, grid = null, GS = 10;

  function current() { return D.embeddings[state.emb]; }
  function rowOf(e, t) { return e.rows ? e.rows[t] : t; }
  function layout() {
    var e = current(), m = e.xy.length / 2;
    var x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (var t = 0; t < m; t++) { var x = e.xy[2 * t], y = e.xy[2 * t + 1]; if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y; }
    var s = Math.min((W - 2 * PAD) / ((x1 - x0) || 1), (H - 2 * PAD) / ((y1 - y0) || 1));
    var ox = (W - s * (x1 - x0)) / 2, oy = (H - s * (y1 - y0)) / 2;
    px = new Float32Array(m); py = new Float32Array(m);
    grid = {};
    for (t = 0; t < m; t++) {
      px[t] = ox + (e.xy[2 * t] - x0) * s; py[t] = H - (oy + (e.xy[2 * t + 1] - y0) * s);
      var key = Math.floor(px[t] / GS) + ',' + Math.floor(py[t] / GS);
      (grid[key] || (grid[key] = [])).push(t);
    }
  }
  function colourOf(r) {
    if (state.colour === 'moa') { var k = moaTop[D.rows.moa[r]]; return k === undefined ? OTHER : PAL10[k % 10]; }
    var rep = state.colour.slice(8), c = D.clusters[rep][r];
    return PAL20[((c % 20) + 20) % 20];
  }
  function legend() {
    var lg = document.getElementById('legend'); lg.textContent = '';
    if (state.colour === 'moa') {
      D.moaTop.forEach(function (m, i) { var d = el('div'); var sw = el('i'); sw.style.background = PAL10[i % 10]; d.appendChild(sw); d.appendChild(document.createTextNode(m)); lg.appendChild(d); });
      var d = el('div'); var sw = el('i'); sw.style.background = OTHER; d.appendChild(sw); d.appendChild(document.createTextNode('other')); lg.appendChild(d);
    } else {
      var rep = state.colour.slice(8);
      lg.appendChild(el('div', { class: 'muted' }, 'colour = cluster (' + rep + '), ' + new Set(D.clusters[rep]).size + ' clusters; colours repeat every 20'));
    }
  }
  function draw() {
    var e = current(), m = e.xy.length / 2;
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, H);
    var hl = state.matched.length > 0;
    var inComm = hl ? new Set(state.community) : null, inNb = hl ? new Set(state.neighbours) : null, inQ = hl ? new Set(state.matched) : null;
    var rad = m > 3000 ? 2 : m > 800 ? 3 : 4;
    ctx.globalAlpha = hl ? 0.18 : 0.85;
    var order = [];
    for (var t = 0; t < m; t++) {
      var r = rowOf(e, t);
      if (hl && (inComm.has(r) || inNb.has(r) || inQ.has(r))) { order.push(t); continue; }
      ctx.fillStyle = colourOf(r);
      ctx.beginPath(); ctx.arc(px[t], py[t], rad, 0, 6.2832); ctx.fill();
    }
    ctx.globalAlpha = 1;
    order.forEach(function (t) {
      var r = rowOf(e, t);
      ctx.fillStyle = colourOf(r);
      ctx.beginPath(); ctx.arc(px[t], py[t], rad + 1.5, 0, 6.2832); ctx.fill();
      ctx.lineWidth = inQ.has(r) ? 2.5 : 1.5;
      ctx.strokeStyle = inQ.has(r) ? '#000' : inComm.has(r) ? '#2f6fb0' : '#e8590c';
      ctx.stroke();
    });
    if (hl) {
      ctx.font = '12px "DejaVu Sans", sans-serif'; ctx.fillStyle = '#000';
      // One label per drug, at the first of its profiles (doses) in view.
      for (var q = 0; q < order.length; q++) { var rq = rowOf(e, order[q]); if (inQ.has(rq)) { ctx.fillText(D.rows.drug[rq], px[order[q]] + 7, py[order[q]] - 6); break; } }
    }
    document.body.setAttribute('data-highlight', hl ? 'on' : 'off');
    canvas.setAttribute('data-embedding', e.key);
  }

  function nearest(mx, my) {
    var best = -1, bd = 64, cx = Math.floor(mx / GS), cy = Math.floor(my / GS);
    for (var a = -1; a <= 1; a++) for (var b = -1; b <= 1; b++) {
      var cell = grid[(cx + a) + ',' + (cy + b)]; if (!cell) continue;
      for (var q = 0; q < cell.length; q++) { var t = cell[q], dx = px[t] - mx, dy = py[t] - my, d = dx * dx + dy * dy; if (d < bd) { bd = d; best = t; } }
    }
    return best;
  }
  canvas.addEventListener('mousemove', function (ev) {
    var rc = canvas.getBoundingClientRect(), mx = ev.clientX - rc.left, my = ev.clientY - rc.top;
    var t = nearest(mx, my);
    if (t < 0) { tip.style.display = 'none'; return; }
    var r = rowOf(current(), t);
    var lines = [D.rows.drug[r], 'MoA: ' + (D.rows.moa[r] || '—'), 'dose: ' + (D.rows.dose[r] || '—')];
    D.reps.forEach(function (rep) { lines.push('cluster ' + rep + ': ' + D.clusters[rep][r]); });
    tip.textContent = '';
    lines.forEach(function (l, i) { var d = el(i === 0 ? 'b' : 'div', null, l); tip.appendChild(d); });
    tip.style.display = 'block';
    tip.style.left = Math.min(mx + 14, W - 160) + 'px'; tip.style.top = (my + 12) + 'px';
    canvas.setAttribute('data-hover-row', String(r));
  });
  canvas.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
  canvas.addEventListener('click', function (ev) {
    var rc = canvas.getBoundingClientRect(), t = nearest(ev.clientX - rc.left, ev.clientY - rc.top);
    if (t >= 0) { var d = D.rows.drug[rowOf(current(), t)]; searchBox.value = d; runSearch(d); }
  });

  // ---------------------------------------------------------------- search
  var searchBox = document.getElementById('search'), info = document.getElementById('info');
  var drugIndex = {};
  D.rows.drug.forEach(function (d, r) { var k = String(d).toLowerCase(); (drugIndex[k] || (drugIndex[k] = [])).push(r); });
  var drugNames = Object.keys(drugIndex);
  // Compound-level answers (phenomap query), when the report was written with them.
  var C = D.compounds || null;
  var cIndex = {}, ctrlNames = {};
  if (C) {
    C.compounds.forEach(function (c, i) { cIndex[String(c).toLowerCase()] = i; });
    C.controlNames.forEach(function (c) { ctrlNames[String(c).toLowerCase()] = true; });
  }
  var STATUS = { '1': 'active', '0': 'inactive', '-1': 'not-called' };

  function fmtP(x) {
    if (x === null || x === undefined || !isFinite(x)) return '—';
    return x < 1e-3 ? x.toExponential(1) : x.toPrecision(2);
  }
  function fmt3(x) { return (x === null || x === undefined || !isFinite(x)) ? '—' : x.toFixed(3); }
  function lev(a, b) {
    var prev = [], i, j;
    for (j = 0; j <= b.length; j++) prev[j] = j;
    for (i = 1; i <= a.length; i++) {
      var diag = prev[0]; prev[0] = i;
      for (j = 1; j <= b.length; j++) {
        var t = prev[j];
        prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
        diag = t;
      }
    }
    return prev[b.length];
  }
  function closest(q) {
    return C.compounds.map(function (c) {
      var n = String(c).toLowerCase();
      return [c, (q.length >= 3 && n.indexOf(q) >= 0) || (n.length >= 3 && q.indexOf(n) >= 0) ? 0.5 : lev(q, n)];
    }).sort(function (a, b) { return a[1] - b[1] || String(a[0]).localeCompare(String(b[0])); }).slice(0, 5).map(function (x) { return x[0]; });
  }

  function highlight(drugKey, answerIdx) {
    var rows = drugIndex[drugKey] || [];
    var rep = state.rep, lab = D.clusters[rep], nb = D.neighbours[rep], k = D.neighbourK;
    var cl = {}, comm = [], nbs = {};
    rows.forEach(function (r) { cl[lab[r]] = true; });
    for (var r = 0; r < D.n; r++) if (cl[lab[r]]) comm.push(r);
    var q = {}; rows.forEach(function (r) { q[r] = true; });
    var pr = C && answerIdx !== undefined ? C.perRep[rep] : null;
    if (pr) {
      // The answer's neighbouring compounds: all of their profiles.
      pr.neighbours[answerIdx].forEach(function (n) {
        (drugIndex[String(C.compounds[n[0]]).toLowerCase()] || []).forEach(function (s) { if (!q[s]) nbs[s] = true; });
      });
    } else if (nb) rows.forEach(function (r) { for (var j = 0; j < k; j++) { var s = nb[r * k + j]; if (s >= 0 && !q[s]) nbs[s] = true; } });
    state.drug = rows.length ? D.rows.drug[rows[0]] : null;
    state.matched = rows; state.community = comm; state.neighbours = Object.keys(nbs).map(Number);
    state.clusters = Object.keys(cl).map(Number);
  }
  function clearHighlight() { state.matched = []; state.community = []; state.neighbours = []; state.clusters = []; state.drug = null; }

  function pickButton(host, name) {
    var b = el('button', { class: 'cand' }, name);
    b.addEventListener('click', function () { searchBox.value = name; runSearch(name); });
    host.appendChild(b);
  }
  function memberTable(host) {
    var t = el('table', { class: 'data' }), h = el('tr');
    ['drug', 'MoA', 'dose', 'cluster'].forEach(function (c) { h.appendChild(el('th', null, c)); });
    t.appendChild(h);
    state.community.slice(0, 150).forEach(function (r) {
      var tr = el('tr');
      [D.rows.drug[r], D.rows.moa[r] || '', D.rows.dose[r] || '', D.clusters[state.rep][r]].forEach(function (v) { tr.appendChild(el('td', null, v)); });
      t.appendChild(tr);
    });
    var wrap = el('div', { class: 'members' }); wrap.appendChild(t); host.appendChild(wrap);
  }

  // The compound answer: verdict first; neighbours and community marked unreliable when inactive.
  function showAnswer(i) {
    var act = C.activity[i], status = STATUS[String(act[0])], unreliable = act[0] === 0;
    var v = el('div', { class: 'verdict ' + status, id: 'answer-verdict' }, C.verdict[i]);
    info.appendChild(v);
    var ann = [];
    if (C.label[i].length) ann.push((C.labelColumn || 'label') + ': ' + C.label[i].join(' | '));
    if (C.target[i].length) ann.push('target: ' + C.target[i].join(' | '));
    if (ann.length) info.appendChild(el('div', { class: 'muted' }, ann.join(' · ')));
    var pr = C.perRep[state.rep];
    if (!pr) { info.appendChild(el('div', { class: 'muted' }, 'No compound neighbours for the ' + state.rep + ' representation in this report.')); return; }
    var nbrs = pr.neighbours[i], doses = pr.doses[i];
    info.appendChild(el('h4', null, (unreliable ? 'UNRELIABLE — ' : '') + 'Nearest compounds (' + state.rep + '; p and percentile against all compound pairs)'));
    if (!nbrs.length) info.appendChild(el('div', { class: 'muted' }, 'No other compound in this representation.'));
    else {
      var t = el('table', { class: 'data', id: 'answer-neighbours' }), h = el('tr');
      ['#', 'compound', 'similarity', 'percentile', 'p', 'q', 'activity', 'community', 'shared', 'doses'].forEach(function (c) { h.appendChild(el('th', null, c)); });
      t.appendChild(h);
      nbrs.forEach(function (n, j) {
        var tr = el('tr'), other = C.activity[n[0]], name = C.compounds[n[0]];
        var shared = C.label[n[0]].filter(function (x) { return C.label[i].indexOf(x) >= 0; })
          .concat(C.target[n[0]].filter(function (x) { return C.target[i].indexOf(x) >= 0; }));
        var a = STATUS[String(other[0])];
        var cells = [String(j + 1), null, fmt3(n[1]), n[2].toFixed(1) + '%', fmtP(n[3]), fmtP(n[4]),
          a === 'active' ? 'active (q ' + fmtP(other[3]) + ')' : a === 'inactive' ? 'INACTIVE (q ' + fmtP(other[3]) + ')' : 'no call',
          n[5] === 1 ? 'same' : n[5] === 0 ? '' : '—', shared.join(' | '),
          (doses[j][0] === null && doses[j][1] === null) ? '' : (doses[j][0] === null ? '?' : doses[j][0]) + ' ~ ' + (doses[j][1] === null ? '?' : doses[j][1])];
        cells.forEach(function (c, col) {
          var td = el('td', col === 0 || (col >= 2 && col <= 5) ? { class: 'num' } : null);
          if (col === 1) pickButton(td, name); else td.textContent = c;
          tr.appendChild(td);
        });
        t.appendChild(tr);
      });
      var sx = el('div', { class: 'scroll-x' }); sx.appendChild(t); info.appendChild(sx);
    }
    var cm = pr.community[i];
    if (cm[0] >= 0) {
      var cd = pr.communities[String(cm[0])];
      var share = cd.profiles ? Math.round(100 * cd.controls / cd.profiles) : 0;
      info.appendChild(el('h4', null, (unreliable ? 'UNRELIABLE — ' : '') + 'Community ' + cm[0] + ' (' + state.rep + ')'));
      info.appendChild(el('div', { id: 'answer-community' }, cd.profiles + ' profiles holding ' + cm[1] + ' of its ' + cm[2] + ' wells; ' + cd.controls + ' negative-control wells (' + share + '%)' + (cd.controls * 2 > cd.profiles ? ' — dominated by controls' : '')));
      var others = cd.compounds.filter(function (x) { return x[0] !== C.compounds[i]; });
      if (others.length) info.appendChild(el('div', null, 'other compounds: ' + others.slice(0, 15).map(function (x) { return x[0] + ' (' + x[1] + ')'; }).join(', ') + (others.length > 15 ? ', …' : '')));
      var sig = cd.enrichment.filter(function (e) { return e[5] === 1; });
      info.appendChild(el('div', null, sig.length ? 'enriched: ' + sig.slice(0, 6).map(function (e) { return e[0] + ' (' + e[1] + '/' + e[2] + ', p ' + fmtP(e[3]) + ', q ' + fmtP(e[4]) + ')'; }).join('; ') : 'no label is significantly enriched in this community'));
    }
  }

  function showInfo(view) {
    info.textContent = '';
    document.body.setAttribute('data-answer-status', view.kind);
    if (view.kind === 'candidates') {
      info.appendChild(el('div', null, view.names.length + ' ' + (C ? 'compounds' : 'drugs') + ' match “' + state.query + '”; pick one:'));
      view.names.slice(0, 40).forEach(function (c) { pickButton(info, c); });
      return;
    }
    if (view.kind === 'not-found') {
      info.appendChild(el('div', { class: 'muted' }, '“' + state.query + '” is not a compound of this run' + (view.names.length ? '; closest names:' : '.')));
      view.names.forEach(function (c) { pickButton(info, c); });
      return;
    }
    if (view.kind === 'control') {
      info.appendChild(el('div', { class: 'verdict' }, '“' + state.query + '” names the negative controls' + (C.controls ? ' (' + C.controls.wells + ' wells, ' + C.controls.rule + ')' : '') + ': they are the reference every activity call is made against, not a treatment.'));
      return;
    }
    if (view.kind === 'none' || !state.matched.length) return;
    if (view.kind === 'answer') showAnswer(view.index);
    var head = el('h4', null, 'Profiles in its communities (' + state.rep + ' clusters ' + state.clusters.join(', ') + '): ' + state.community.length);
    if (view.kind !== 'answer') info.appendChild(el('div', null, state.drug + ': ' + state.matched.length + ' profile(s); community (' + state.rep + ' clusters ' + state.clusters.join(', ') + '): ' + state.community.length + ' profiles; ' + state.neighbours.length + ' nearest neighbours (outlined orange).'));
    else info.appendChild(head);
    memberTable(info);
  }
  function answerAt(i) {
    var name = C.compounds[i];
    highlight(String(name).toLowerCase(), i);
    state.answer = { compound: name, status: STATUS[String(C.activity[i][0])], neighbours: (C.perRep[state.rep] ? C.perRep[state.rep].neighbours[i] : []).map(function (n) { return C.compounds[n[0]]; }) };
    return { kind: 'answer', index: i };
  }
  function runSearch(text) {
    state.query = String(text || '').trim();
    state.answer = null;
    var key = state.query.toLowerCase(), view = { kind: 'none' }, hits;
    clearHighlight();
    if (!key) view = { kind: 'none' };
    else if (C) {
      if (ctrlNames[key]) { highlight(key); view = { kind: 'control' }; }
      else if (cIndex[key] !== undefined) view = answerAt(cIndex[key]);
      else {
        hits = key.length >= 3 ? C.compounds.filter(function (c) { return String(c).toLowerCase().indexOf(key) >= 0; }) : [];
        if (hits.length === 1) view = answerAt(cIndex[String(hits[0]).toLowerCase()]);
        else if (hits.length > 1) view = { kind: 'candidates', names: hits };
        else view = { kind: 'not-found', names: closest(key) };
      }
    } else if (drugIndex[key]) { highlight(key); view = { kind: 'rows' }; }
    else {
      hits = drugNames.filter(function (d) { return d.indexOf(key) >= 0; });
      if (hits.length === 1) { highlight(hits[0]); view = { kind: 'rows' }; }
      else if (hits.length > 1) view = { kind: 'candidates', names: hits.map(function (d) { return D.rows.drug[drugIndex[d][0]]; }) };
    }
    document.body.setAttribute('data-community-size', String(state.community.length));
    showInfo(view); draw();
  }
  searchBox.addEventListener('input', function () { runSearch(searchBox.value); });

  // ---------------------------------------------------------------- controls
  var embSel = document.getElementById('emb-select'), colSel = document.getElementById('colour-select'), repSel = document.getElementById('rep-select');
  D.embeddings.forEach(function (e, i) { embSel.appendChild(el('option', { value: String(i) }, e.label)); });
  colSel.appendChild(el('option', { value: 'moa' }, 'MoA (top ' + D.moaTop.length + ')'));
  D.reps.forEach(function (r) { colSel.appendChild(el('option', { value: 'cluster:' + r }, 'cluster (' + r + ')')); repSel.appendChild(el('option', { value: r }, r)); });
  repSel.value = state.rep;
  embSel.addEventListener('change', function () { state.emb = Number(embSel.value); layout(); draw(); });
  colSel.addEventListener('change', function () { state.colour = colSel.value; legend(); draw(); });
  repSel.addEventListener('change', function () { state.rep = repSel.value; runSearch(searchBox.value); });
  layout(); legend(); draw();
  document.body.setAttribute('data-ready', '1');
})();
`;
