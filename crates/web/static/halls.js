// Hall pages: the display board follows the server-sent events of its hall and redraws the list of
// calls; the window-planning page draws its table as a chart (Chart.js, vendored). Without
// JavaScript both pages still show what the server rendered.
(function () {
  'use strict';

  function text(tag, value) {
    var cell = document.createElement(tag);
    cell.textContent = value;
    return cell;
  }

  function drawBoard(board) {
    var rows = document.getElementById('board-rows');
    var waiting = document.getElementById('board-waiting');
    if (!rows) return;
    rows.replaceChildren();
    board.called.forEach(function (entry) {
      var row = document.createElement('tr');
      row.dataset.number = entry.number;
      var number = text('td', entry.number);
      number.className = 'ticket-number';
      row.append(number, text('td', entry.window_number), text('td', entry.called_at));
      rows.append(row);
    });
    if (waiting) waiting.textContent = String(board.waiting);
  }

  var table = document.getElementById('board');
  if (table && window.EventSource) {
    var source = new EventSource('/api/v1/halls/' + encodeURIComponent(table.dataset.hall) + '/board/events');
    source.addEventListener('board', function (event) {
      try {
        drawBoard(JSON.parse(event.data));
      } catch (ignored) {
        // A malformed event changes nothing on the screen.
      }
    });
  }

  var data = document.getElementById('planning-data');
  var canvas = document.getElementById('planning-chart');
  if (data && canvas && window.Chart) {
    var rows = JSON.parse(data.textContent);
    var counts = [];
    rows.forEach(function (r) { if (counts.indexOf(r.windows) < 0) counts.push(r.windows); });
    function series(layout, field) {
      return counts.map(function (n) {
        var row = rows.find(function (r) { return r.windows === n && r.layout === layout; });
        return row ? Math.round(row[field] * 10) / 10 : null;
      });
    }
    var zh = document.documentElement.lang !== 'en';
    new window.Chart(canvas, {
      type: 'line',
      data: {
        labels: counts,
        datasets: [
          { label: zh ? '综合窗口 p90 等候(分钟)' : 'Comprehensive p90 wait (min)', data: series('comprehensive', 'p90_wait'), borderColor: '#c0392b', yAxisID: 'y' },
          { label: zh ? '专业窗口 p90 等候(分钟)' : 'Specialised p90 wait (min)', data: series('specialised', 'p90_wait'), borderColor: '#7f8c8d', borderDash: [6, 4], yAxisID: 'y' },
          { label: zh ? '综合窗口 p50 等候(分钟)' : 'Comprehensive p50 wait (min)', data: series('comprehensive', 'p50_wait'), borderColor: '#e67e22', yAxisID: 'y' },
          { label: zh ? '综合窗口利用率' : 'Comprehensive utilisation', data: series('comprehensive', 'utilisation').map(function (u) { return u === null ? null : Math.round(u * 100); }), borderColor: '#2980b9', yAxisID: 'u' }
        ]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: { title: { display: true, text: zh ? '窗口数' : 'Windows' } },
          y: { min: 0, max: 120, title: { display: true, text: zh ? '等候(分钟)' : 'Wait (min)' } },
          u: { position: 'right', min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: '%' } }
        }
      }
    });
  }
})();
