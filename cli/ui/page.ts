/**
 * The page `stackless workflows ui` serves: one HTML document with its CSS and script inline
 * (no build step, no external requests). The script reads the server's JSON API
 * (cli/ui/server.ts) and builds the DOM with textContent only: stored values are shown, never
 * interpreted as HTML.
 */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>stackless workflows</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { --fg: #1d2330; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; --sel: #e0ecff; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; gap: 12px; align-items: center; padding: 10px 16px; background: #fff; border-bottom: 1px solid var(--line); }
  header h1 { font-size: 16px; margin: 0 12px 0 0; }
  header .grow { flex: 1; }
  main { display: grid; grid-template-columns: minmax(420px, 46%) 1fr; gap: 0; height: calc(100vh - 50px); }
  #list, #detail { overflow: auto; }
  #list { border-right: 1px solid var(--line); background: #fff; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
  #runs td { overflow-wrap: anywhere; }
  #runs td:first-child, #runs td:nth-child(2) { overflow-wrap: normal; white-space: nowrap; }
  th { font-size: 12px; color: var(--muted); font-weight: 600; position: sticky; top: 0; background: #fff; }
  #runs tbody tr { cursor: pointer; }
  #runs tbody tr:hover { background: #f3f6fb; }
  #runs tbody tr.selected { background: var(--sel); }
  .mono, code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
  .badge { white-space: nowrap; display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
  .s-running { background: #dbeafe; color: #1e40af; } .s-waiting { background: #fef3c7; color: #92400e; }
  .s-finished { background: #dcfce7; color: #166534; } .s-failed, .s-corrupt { background: #fee2e2; color: #991b1b; }
  .s-cancelled { background: #e5e7eb; color: #374151; }
  #detail { padding: 16px 20px; }
  #detail h2 { margin: 0 0 8px; font-size: 18px; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
  #detail h3 { margin: 18px 0 6px; font-size: 14px; }
  #detail h2 .where { font-size: 13px; font-weight: 400; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
  dt { color: var(--muted); } dd { margin: 0; }
  button { font: 13px system-ui, sans-serif; padding: 4px 12px; border-radius: 6px; border: 1px solid #cbd5e1; background: #fff; cursor: pointer; }
  button:disabled { opacity: .45; cursor: default; }
  button.danger:not(:disabled) { border-color: #fca5a5; color: #991b1b; }
  .frame { background: #fff; border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; padding: 8px 10px; }
  .frame .where { color: var(--muted); }
  pre.src { margin: 6px 0; padding: 6px 0; background: #f6f8fa; border-radius: 4px; overflow-x: auto; }
  pre.src span { display: block; padding: 0 8px; white-space: pre; }
  pre.src span.current { background: #fff3bf; }
  table.locals { width: auto; }
  .locals td { padding: 2px 10px; border: 0; }
  .locals td:first-child { color: var(--muted); }
  ol.timeline { list-style: none; padding: 0; margin: 0; }
  ol.timeline li { display: grid; grid-template-columns: 190px 80px 1fr; gap: 8px; padding: 4px 0; border-bottom: 1px dashed var(--line); }
  ol.timeline li.k-retry, ol.timeline li.error { color: #991b1b; }
  ol.timeline .time { color: var(--muted); }
  .error-box { background: #fef2f2; border: 1px solid #fecaca; border-radius: 6px; padding: 8px 10px; white-space: pre-wrap; }
  #message { min-height: 1.4em; color: var(--muted); }
  #message.bad { color: #991b1b; }
  .empty { color: var(--muted); padding: 16px; }
</style>
</head>
<body>
<header>
  <h1>stackless workflows</h1>
  <label>status <select id="filter"><option value="">all</option><option>running</option><option>waiting</option><option>finished</option><option>failed</option><option>cancelled</option></select></label>
  <button id="refresh" type="button">Refresh</button>
  <span class="grow"></span>
  <span id="updated" class="mono"></span>
</header>
<main>
  <section id="list">
    <table id="runs">
      <thead><tr><th>ID</th><th>STATUS</th><th>WORKFLOW</th><th>STEPS</th><th>UPDATED</th><th>WAITING FOR</th></tr></thead>
      <tbody></tbody>
    </table>
    <div id="no-runs" class="empty" hidden>no runs in this store</div>
  </section>
  <section id="detail"><div class="empty">select a run</div></section>
</main>
<script>
"use strict";
(function () {
  var selected = decodeURIComponent((location.hash.match(/^#run=(.*)$/) || [])[1] || '');
  var busy = false;
  // what is on screen: a refresh that brings the same data leaves the DOM (and the reader's selection) alone
  var shownList = '';
  var shownDetail = '';

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'className') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c != null) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function elapsed(ms) { return ms < 1000 ? ms + ' ms' : ms < 60000 ? (ms / 1000).toFixed(1) + ' s' : ms < 3600000 ? (ms / 60000).toFixed(1) + ' min' : (ms / 3600000).toFixed(1) + ' h'; }
  function time(iso) { return iso ? iso.replace('T', ' ').replace(/\\.\\d+Z$/, 'Z') : ''; }
  function json(v) { try { var s = JSON.stringify(v); return s === undefined ? String(v) : s; } catch (e) { return String(v); } }
  function badge(status) { return el('span', { className: 'badge s-' + status, text: status }); }
  function waits(r) {
    var parts = [];
    if (r.wakeAt) parts.push('timer ' + time(r.wakeAt));
    (r.waitingFor || []).forEach(function (n) { parts.push("signal '" + n + "'"); });
    return parts.join(', ');
  }
  function api(method, path) {
    var init = { method: method, headers: method === 'POST' ? { 'x-stackless-ui': '1' } : {} };
    return fetch(path, init).then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok) throw new Error(body && body.error ? body.error : res.status + ' ' + res.statusText);
        return body;
      });
    });
  }
  function say(text, bad) {
    var m = document.getElementById('message');
    if (!m) return;
    m.textContent = text;
    m.className = bad ? 'bad' : '';
  }

  function renderList(runs) {
    var body = document.querySelector('#runs tbody');
    body.textContent = '';
    document.getElementById('no-runs').hidden = runs.length > 0;
    runs.forEach(function (r) {
      var tr = el('tr', { 'data-id': r.id, 'data-status': r.corrupt ? 'corrupt' : r.status }, [
        el('td', { className: 'mono', text: r.id }),
        el('td', null, [badge(r.corrupt ? 'corrupt' : r.status)]),
        el('td', { className: 'mono', text: r.workflow }),
        el('td', { text: String(r.steps) }),
        el('td', { className: 'mono', text: time(r.updatedAt) }),
        el('td', { text: waits(r) })
      ]);
      if (r.id === selected) tr.className = 'selected';
      tr.addEventListener('click', function () { select(r.id); });
      body.appendChild(tr);
    });
  }

  function renderFrame(f) {
    var box = el('div', { className: 'frame' }, [
      el('div', null, [el('strong', { className: 'mono', text: f.function }), ' ', el('span', { className: 'where mono', text: (f.file || '?') + ':' + (f.line == null ? '?' : f.line) + ':' + (f.column == null ? '?' : f.column) })])
    ]);
    if (f.source) {
      var pre = el('pre', { className: 'src' });
      f.source.lines.forEach(function (text, i) {
        var n = f.source.first + i;
        var pad = String(f.source.first + f.source.lines.length - 1).length;
        var span = el('span', { text: String(n).padStart(pad) + ' | ' + text, 'data-line': String(n) });
        if (n === f.line) span.className = 'current';
        pre.appendChild(span);
      });
      box.appendChild(pre);
    }
    var names = Object.keys(f.locals || {});
    if (names.length) {
      var t = el('table', { className: 'locals' });
      names.forEach(function (k) { t.appendChild(el('tr', { 'data-local': k }, [el('td', { className: 'mono', text: k }), el('td', { className: 'mono', text: json(f.locals[k]) })])); });
      box.appendChild(t);
    } else box.appendChild(el('div', { className: 'where', text: 'no locals' }));
    return box;
  }

  function entryText(j) {
    var d = j.data;
    if (d === null || typeof d !== 'object') return d == null ? '' : String(d);
    if ('value' in d) return '-> ' + json(d.value);
    if ('args' in d) return 'inputs ' + json(d.args);
    if ('migrations' in d && Array.isArray(d.migrations)) return d.migrations.map(function (m) { return m.fn + ' ' + m.from + ' -> ' + m.to + ' (' + m.frames + ' frame' + (m.frames === 1 ? '' : 's') + ')'; }).join('; ');
    if ('result' in d) return 'result ' + json(d.result);
    if ('error' in d) return '!! ' + (typeof d.error === 'string' ? d.error : (d.error && d.error.message) || json(d.error)) + ('delay' in d ? ' (next attempt in ' + d.delay + ' ms)' : '');
    if ('message' in d) return '!! ' + (d.name ? d.name + ': ' : '') + d.message;
    return json(d);
  }

  function renderDetail(d) {
    var box = document.getElementById('detail');
    box.textContent = '';
    var ended = d.status === 'finished' || d.status === 'failed' || d.status === 'cancelled';
    var cancel = el('button', { id: 'cancel', type: 'button', className: 'danger', text: 'Cancel' });
    var retry = el('button', { id: 'retry', type: 'button', text: 'Retry' });
    cancel.disabled = ended || d.cancelState !== 'none';
    retry.disabled = !(d.status === 'failed' || d.status === 'cancelled');
    cancel.addEventListener('click', function () { act('cancel', d.id); });
    retry.addEventListener('click', function () { act('retry', d.id); });
    var status = el('span', { id: 'status', 'data-status': d.status }, [badge(d.status)]);
    if (d.cancelState === 'requested') status.appendChild(el('span', { className: 'where', text: ' cancel requested' }));
    if (d.cancelState === 'delivered') status.appendChild(el('span', { className: 'where', text: ' cancelling' }));
    box.appendChild(el('h2', null, [el('span', { className: 'mono', id: 'run-id', text: d.id }), status, cancel, retry]));
    box.appendChild(el('div', { id: 'message' }));
    var dl = el('dl');
    function field(k, v) { dl.appendChild(el('dt', { text: k })); dl.appendChild(el('dd', { className: 'mono', text: v })); }
    field('workflow', d.workflow);
    if (d.wakeAt || (d.waitingFor && d.waitingFor.length)) field('waiting for', waits(d));
    field('steps', d.steps + ' completed, ' + d.checkpoints + ' checkpoints');
    field('created', time(d.createdAt));
    field('updated', time(d.updatedAt));
    if (d.resultText !== null) field('result', d.resultText);
    box.appendChild(dl);
    if (d.error) {
      box.appendChild(el('h3', { text: 'Error' }));
      box.appendChild(el('div', { className: 'error-box mono', id: 'error', text: d.error.name + (d.error.code ? ' [' + d.error.code + ']' : '') + ': ' + d.error.message }));
    }
    box.appendChild(el('h3', { text: 'Stack (innermost last)' }));
    var frames = el('div', { id: 'frames' });
    if (!d.frames.length) frames.appendChild(el('div', { className: 'where', text: ended ? 'the run has ended: no stack' : 'no checkpoint with a stack yet' }));
    d.frames.forEach(function (f) { frames.appendChild(renderFrame(f)); });
    box.appendChild(frames);
    box.appendChild(el('h3', { text: 'Timeline' }));
    var ol = el('ol', { className: 'timeline', id: 'timeline' });
    var t0 = d.journal.length ? d.journal[0].at : 0;
    d.journal.forEach(function (j) {
      var failed = j.data && typeof j.data === 'object' && ('error' in j.data);
      ol.appendChild(el('li', { className: 'k-' + j.kind + (failed ? ' error' : ''), 'data-kind': j.kind }, [
        el('span', { className: 'time mono', title: new Date(j.at).toISOString(), text: new Date(j.at).toISOString().slice(11, 23) + (j.at > t0 ? '  +' + elapsed(j.at - t0) : '') }),
        el('strong', { text: j.kind }),
        el('span', { className: 'mono', text: (j.name !== null ? "'" + j.name + "' " : '') + (j.attempt !== null ? '(attempt ' + j.attempt + ') ' : '') + entryText(j) })
      ]));
    });
    box.appendChild(ol);
  }

  function loadList() {
    var s = document.getElementById('filter').value;
    return api('GET', '/api/runs' + (s ? '?status=' + encodeURIComponent(s) : '')).then(function (runs) {
      var key = s + JSON.stringify(runs);
      document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
      if (key === shownList) return;
      shownList = key;
      renderList(runs);
    });
  }
  function loadDetail() {
    if (!selected) return Promise.resolve();
    return api('GET', '/api/runs/' + encodeURIComponent(selected)).then(function (d) {
      var key = JSON.stringify(d);
      if (key === shownDetail) return;
      shownDetail = key;
      renderDetail(d);
    }, function (e) {
      shownDetail = '';
      var box = document.getElementById('detail');
      box.textContent = '';
      box.appendChild(el('div', { className: 'empty', text: e.message }));
    });
  }
  function refresh() {
    if (busy) return Promise.resolve();
    busy = true;
    return Promise.all([loadList(), loadDetail()]).catch(function (e) { say(e.message, true); }).then(function () { busy = false; });
  }
  function select(id) {
    selected = id;
    history.replaceState(null, '', '#run=' + encodeURIComponent(id));
    Array.prototype.forEach.call(document.querySelectorAll('#runs tbody tr'), function (tr) { tr.className = tr.getAttribute('data-id') === id ? 'selected' : ''; });
    loadDetail();
  }
  function act(action, id) {
    api('POST', '/api/runs/' + encodeURIComponent(id) + '/' + action).then(function (r) {
      shownDetail = JSON.stringify(r.run);
      renderDetail(r.run);
      say(action === 'cancel' ? 'cancel requested: the next drain of a worker raises TaskletExit in the run' : 'retry requested: the next drain of a worker runs it again');
      return loadList();
    }, function (e) { say(e.message, true); });
  }

  document.getElementById('refresh').addEventListener('click', refresh);
  document.getElementById('filter').addEventListener('change', refresh);
  refresh();
  setInterval(refresh, 2000);
})();
</script>
</body>
</html>
`;
