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

// Search the address book as one types; a contact picked is added to the recipients.
(function () {
  var search = document.querySelector("input[data-contacts]");
  if (!search || !window.fetch) { return; }
  var list = document.getElementById(search.getAttribute("list"));
  var into = document.querySelector('textarea[name="' + search.getAttribute("data-into") + '"]');
  var found = {};
  search.addEventListener("input", function () {
    var picked = found[search.value];
    if (picked) {
      into.value = (into.value.trim() ? into.value.trim() + "\n" : "") + picked;
      search.value = "";
      return;
    }
    fetch(search.getAttribute("data-contacts") + "?q=" + encodeURIComponent(search.value),
          { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        list.textContent = "";
        found = {};
        data.contacts.forEach(function (contact) {
          var label = contact.name + " (" + contact.number + ")";
          var option = document.createElement("option");
          option.value = label;
          list.appendChild(option);
          found[label] = contact.name;
        });
      })
      .catch(function () {});
  });
})();
