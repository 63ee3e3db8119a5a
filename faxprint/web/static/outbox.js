// Refresh the states of the listed faxes while the page is open (the page works without).
"use strict";
(function () {
  var table = document.querySelector("table[data-refresh]");
  if (!table || !window.fetch) { return; }
  function refresh() {
    fetch(table.getAttribute("data-refresh"), { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        data.jobs.forEach(function (job) {
          var row = table.querySelector('tr[data-key="' + CSS.escape(job.key) + '"]');
          if (row) { row.querySelector("td.state").textContent = job.state_words; }
        });
      })
      .catch(function () {});
  }
  window.setInterval(refresh, 5000);
})();
