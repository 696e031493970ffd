/* Gridwatch AG Grid helpers (layouts/grid.py): the dark theme, the grid's own text in the page's
 * language (assets/vendor/ag-grid-locale-35.3.1), duration cells drawn with the catalogue's
 * words, and live rows applied by id as transactions (no new grid, no new row nodes).
 * Cells show field text as text: no HTML renderer is used anywhere. */
(function () {
  'use strict';
  var dagfuncs = window.dashAgGridFunctions = window.dashAgGridFunctions || {};
  var GW = window.gridwatch = window.gridwatch || {};

  // gridwatch.css's palette; sizes follow the page's font (wall pages are larger).
  dagfuncs.gwTheme = function (base) {
    return base.withParams({
      backgroundColor: '#0b1628', foregroundColor: '#e8f0fb', accentColor: '#00c8ff',
      borderColor: '#1d3357', chromeBackgroundColor: '#12233f', headerBackgroundColor: '#12233f',
      headerTextColor: '#cfe3ff', headerFontWeight: 700, oddRowBackgroundColor: '#0d1c33',
      rowHoverColor: '#17345f', selectedRowBackgroundColor: '#17345f',
      inputBackgroundColor: '#0a1628', inputTextColor: '#e8f0fb', inputBorder: true,
      fontFamily: 'inherit', fontSize: '0.94em', headerFontSize: '0.94em',
      spacing: 5, wrapperBorderRadius: 6, borderRadius: 4, browserColorScheme: 'dark'
    });
  };

  // AG Grid's own words (paging, filters, "no rows") from @ag-grid-community/locale.
  dagfuncs.gwLocaleText = function (params, lang) {
    var all = window.gwAgGridLocale || {};
    var text = (all[lang] || all.zh || {})[params.key];
    if (text === undefined) { return params.defaultValue; }
    (params.variableValues || []).forEach(function (v, i) {
      text = text.split('${variable' + (i || '') + '}').join(v);
    });
    return text;
  };

  // An age or deadline cell from its minutes ('3天4小时', '超期 5小时', '—'): assets/cases.js.
  dagfuncs.gwMinutes = function (min) {
    if (min === null || min === undefined) { return '\u2014'; }
    return GW.minutesText ? GW.minutesText(Number(min)) : String(min);
  };

  // A CSV cell as the grid shows it (durations in words), never a spreadsheet formula (the same
  // rule as the audit log's server CSV, dashboard/audit_page.py _cell).
  dagfuncs.gwCsvCell = function (params) {
    var shown = params.formatValue ? params.formatValue(params.value) : null;
    var v = shown === null || shown === undefined ? params.value : shown;
    if (typeof v === 'string' && /^[=+\-@\t\r]/.test(v)) { return "'" + v; }
    return v === null || v === undefined ? '' : v;
  };

  // AG Grid's scripts, which the index names without running (dashboard/app.py _page_scripts):
  // loaded once, by the first grid a page draws.
  var loading = null;
  function loadScripts() {
    if (loading) { return loading; }
    var tags = document.querySelectorAll('script[type="text/x-gw-deferred"][data-src]');
    loading = Promise.all(Array.prototype.map.call(tags, function (tag) {
      return new Promise(function (done, fail) {
        var s = document.createElement('script');
        s.src = tag.getAttribute('data-src');
        s.onload = done;
        s.onerror = function () { loading = null; fail(new Error('not loaded: ' + s.src)); };
        document.head.appendChild(s);
      });
    }));
    return loading;
  }

  // On a map page, after its region labels are drawn and its push channel is open (its officers
  // and cases come first; at most 5 s).
  function afterMap() {
    return new Promise(function (done) {
      var since = Date.now();
      var idle = function () {
        if (window.requestIdleCallback) { window.requestIdleCallback(done, {timeout: 1000}); }
        else { setTimeout(done, 0); }
      };
      (function wait() {
        var map = document.querySelector('.leaflet-container');
        var drawn = map && map.querySelector('.leaflet-gwLabels-pane [data-code]') &&
          document.querySelector('.gw-conn--open');
        if (!map || drawn || Date.now() - since > 5000) { idle(); return; }
        setTimeout(wait, 100);
      }());
    });
  }

  // A deferred grid (layouts/grid.py): its component, drawn once the map is up and the scripts
  // are in, with the rows the push channel brought meanwhile.
  var latest = {};
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.gwGrid = {
    draw: function (spec) {
      if (!spec) { return null; }
      return afterMap().then(loadScripts).then(function () {
        var rows = latest[spec.props.id];
        return rows ? {type: spec.type, namespace: spec.namespace,
                       props: Object.assign({}, spec.props, {rowData: rows})} : spec;
      });
    }
  };

  function gridApi(id) {
    if (!document.getElementById(id) || !window.dash_ag_grid) { return null; }
    try { return window.dash_ag_grid.getApi(id); } catch (e) { return null; }
  }

  function same(a, b) {
    var keys = Object.keys(a);
    for (var i = 0; i < keys.length; i++) { if (a[keys[i]] !== b[keys[i]]) { return false; } }
    return keys.length === Object.keys(b).length;
  }

  // Make grid `id` hold exactly `rows`: new ids added, changed rows updated in place, the rest
  // removed. Unchanged rows are not touched. Returns the transaction (null: no grid yet).
  function syncRows(id, rows, tries) {
    var api = gridApi(id);
    if (!api || api.isDestroyed()) {  // not drawn yet: these rows go in when it is
      latest[id] = rows;
      if (document.getElementById(id + '-slot') && (tries || 0) < 40) {
        setTimeout(function () {
          if (latest[id] === rows) { syncRows(id, rows, (tries || 0) + 1); }
        }, 250);
      }
      return null;
    }
    delete latest[id];
    var want = new Map(), tx = {add: [], update: [], remove: []};
    rows.forEach(function (r) { want.set(String(r.id), r); });
    api.forEachNode(function (node) {
      var r = want.get(String(node.data.id));
      if (!r) { tx.remove.push(node.data); return; }
      if (!same(r, node.data)) { tx.update.push(r); }
      want.delete(String(node.data.id));
    });
    want.forEach(function (r) { tx.add.push(r); });
    if (tx.add.length || tx.update.length || tx.remove.length) { api.applyTransaction(tx); }
    return tx;
  }

  GW.grids = {api: gridApi, syncRows: syncRows};
}());

/* Dead letters: a click on a row of the list shows that message's editor below it. */
(function () {
  'use strict';
  document.addEventListener('click', function (ev) {
    var row = ev.target && ev.target.closest && ev.target.closest('#gw-dl-grid .ag-row[row-id]');
    var card = row && document.querySelector('[data-dl="' +
      window.CSS.escape(row.getAttribute('row-id')) + '"]');
    if (!card) { return; }
    document.querySelectorAll('.gw-dl--focus').forEach(function (c) {
      c.classList.remove('gw-dl--focus');
    });
    card.classList.add('gw-dl--focus');
    card.scrollIntoView({block: 'center'});
    var box = card.querySelector('textarea');
    if (box) { box.focus({preventScroll: true}); }
  });
}());

/* A grid's quick filter box (layouts/grid.py quick_filter, id '<grid>-filter'): the rows that
 * have its text in any column. */
(function () {
  'use strict';
  document.addEventListener('input', function (ev) {
    var box = ev.target;
    if (!box || !/-filter$/.test(box.id || '') || !box.closest('.gw-grid-tools')) { return; }
    var api = window.gridwatch.grids.api(box.id.replace(/-filter$/, ''));
    if (api) { api.setGridOption('quickFilterText', box.value); }
  });
}());
