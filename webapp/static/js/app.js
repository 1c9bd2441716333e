// Behaviour of the pages: confirmations, the decision-table editor, preview progress.
// Served as a file: the Content Security Policy allows no inline script.
(function () {
  "use strict";

  document.querySelectorAll("button.confirm").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.dataset.confirm)) { event.preventDefault(); }
    });
  });

  var form = document.getElementById("rule-table-form");
  if (form) { ruleTable(form); }
  var progress = document.getElementById("preview-progress");
  if (progress) { pollPreview(progress); }
  var selectAll = document.getElementById("select-all");
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      selectAll.closest("table").querySelectorAll("tbody input[type=checkbox]")
        .forEach(function (box) { box.checked = selectAll.checked; });
    });
  }

  function ruleTable(form) {
    var table = form.querySelector("table.rule-table");
    var body = table.tBodies[0];
    var template = document.getElementById("row-template");
    var catalog = JSON.parse(document.getElementById("fact-catalog").textContent);
    var counter = 0;

    body.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) { return; }
      var row = button.closest("tr");
      if (button.classList.contains("move-up") && row.previousElementSibling) {
        body.insertBefore(row, row.previousElementSibling);
      } else if (button.classList.contains("move-down") && row.nextElementSibling) {
        body.insertBefore(row.nextElementSibling, row);
      } else if (button.classList.contains("remove-row")) {
        row.remove();
      }
    });

    document.getElementById("add-row").addEventListener("click", function () {
      counter += 1;
      var key = "n" + counter;
      var html = template.innerHTML.split("__KEY__").join(key);
      body.insertAdjacentHTML("beforeend", html);
      var added = body.lastElementChild;
      added.dataset.row = key;
      added.querySelector("input[name^='rule_id-']").focus();
    });

    table.tHead.addEventListener("click", function (event) {
      var button = event.target.closest("button.remove-column");
      if (!button) { return; }
      var fact = button.closest("th").dataset.column;
      form.querySelectorAll("[data-column='" + fact + "']").forEach(function (cell) {
        cell.remove();
      });
      template.content.querySelectorAll("[data-column='" + fact + "']").forEach(function (cell) {
        cell.remove();
      });
    });

    document.getElementById("add-column").addEventListener("change", function (event) {
      var fact = event.target.value;
      if (!fact || !catalog[fact]) { return; }
      var meta = catalog[fact];
      var head = document.createElement("th");
      head.dataset.column = fact;
      head.title = meta.meaning;
      head.appendChild(hidden("column", fact));
      head.appendChild(document.createTextNode(fact + " "));
      var kind = document.createElement("small");
      kind.className = "text-muted";
      kind.textContent = meta.type;
      head.appendChild(kind);
      var more = table.tHead.querySelector("th[data-more]");
      more.parentNode.insertBefore(head, more);
      Array.prototype.forEach.call(body.rows, function (row) { addCell(row, fact, meta); });
      var templateRow = template.content.querySelector("tr");
      addCell(templateRow, fact, meta);
      event.target.querySelector("option[value='" + fact + "']").remove();
      event.target.value = "";
    });

    function addCell(row, fact, meta) {
      var key = row.dataset.row;
      var cell = document.createElement("td");
      cell.dataset.column = fact;
      var select = document.createElement("select");
      select.className = "form-select form-select-sm cell-op";
      select.name = "op-" + key + "-" + fact;
      select.setAttribute("aria-label", fact + " operator");
      select.appendChild(new Option("", ""));
      meta.ops.forEach(function (pair) { select.appendChild(new Option(pair[1], pair[0])); });
      var input = document.createElement("input");
      input.className = "form-control form-control-sm cell-value";
      input.name = "value-" + key + "-" + fact;
      input.placeholder = meta.hint;
      input.setAttribute("aria-label", fact + " value");
      if (meta.type === "enum") { input.setAttribute("list", "values-" + fact); }
      cell.appendChild(select);
      cell.appendChild(input);
      row.insertBefore(cell, row.querySelector("td[data-more]"));
    }

    function hidden(name, value) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      return input;
    }
  }

  function pollPreview(progress) {
    var url = progress.dataset.url;
    var label = document.getElementById("preview-count");
    function tick() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.json(); })
        .then(function (job) {
          progress.max = Math.max(job.total, 1);
          progress.value = job.done;
          if (label) { label.textContent = job.done + " / " + job.total; }
          if (job.status === "running") { window.setTimeout(tick, 700); }
          else { window.location.reload(); }
        })
        .catch(function () { window.setTimeout(tick, 2000); });
    }
    tick();
  }
}());
