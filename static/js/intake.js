// Progressive enhancement for the filing form; everything works without it.
(function () {
  "use strict";
  var form = document.querySelector("form.intake");
  if (!form) return;

  // 1. Send once: a second tap while the first is on its way does nothing.
  form.addEventListener("submit", function (ev) {
    var btn = ev.submitter;
    if (btn && btn.hasAttribute("data-once")) {
      if (form.dataset.sent) { ev.preventDefault(); return; }
      form.dataset.sent = "1";
      setTimeout(function () { btn.disabled = true; }, 0);
    }
  });

  // 2. Warn about an oversized file before it is uploaded.
  var maxBytes = parseInt(form.dataset.maxMb || "10", 10) * 1048576;
  var fileInput = document.getElementById("attachments");
  if (fileInput) fileInput.addEventListener("change", function () {
    var big = Array.prototype.filter.call(fileInput.files, function (f) { return f.size > maxBytes; });
    fileInput.setCustomValidity(big.length ? big.map(function (f) { return f.name; }).join(", ") + " > " + form.dataset.maxMb + " MB" : "");
    if (big.length) fileInput.reportValidity();
  });

  // 2b. 以谁的名义: only the chosen part's fields (the server reads only those anyway).
  var acting = form.querySelectorAll("input[name=acting_as]");
  function showActing() {
    var chosen = form.querySelector("input[name=acting_as]:checked");
    var value = chosen ? chosen.value : "self";
    Array.prototype.forEach.call(form.querySelectorAll(".acting-part"), function (part) {
      part.hidden = (part.dataset.acting || "").split(" ").indexOf(value) < 0;
    });
  }
  Array.prototype.forEach.call(acting, function (r) { r.addEventListener("change", showActing); });
  if (acting.length) showActing();

  // 3. Type-ahead for the association, from the same API the mini-program uses.
  var q = document.getElementById("association_q");
  var box = document.getElementById("association-results");
  if (!q || !box) return;
  var timer = null, last = "";
  function render(items) {
    box.textContent = "";
    if (!items.length) {
      // a term that finds nothing says so (read out: the box is aria-live)
      var none = document.createElement("p");
      none.className = "hint no-match";
      none.textContent = box.dataset.none || "";
      box.appendChild(none);
      return;
    }
    // the association already chosen (a form sent back with errors shows it above) is not offered twice
    var shown = {};
    Array.prototype.forEach.call(form.querySelectorAll('input[name="association"]'), function (r) { shown[r.value] = true; });
    var chosen = form.querySelector('input[name="association"]:checked');
    var undecided = !chosen || chosen.value === "unknown";
    var fresh = items.filter(function (a) { return !shown[a.credit_code]; });
    fresh.forEach(function (a) {
      var label = document.createElement("label");
      label.className = "option";
      var input = document.createElement("input");
      input.type = "radio"; input.name = "association"; input.value = a.credit_code;
      var span = document.createElement("span");
      span.textContent = a.name + (a.abbreviation ? " (" + a.abbreviation + ")" : "");
      var small = document.createElement("small");
      small.textContent = (a.name_zh && a.name_zh !== a.name ? a.name_zh + " · " : "") + a.credit_code;
      span.appendChild(small);
      // the only association found is chosen, so that the case does not go to triage as 不确定
      if (items.length === 1 && undecided) input.checked = true;
      label.appendChild(input); label.appendChild(span);
      box.appendChild(label);
    });
  }
  q.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var term = q.value.trim();
      if (term === last) return;
      last = term;
      if (!term) { box.textContent = ""; return; }
      fetch(q.dataset.typeahead + "?q=" + encodeURIComponent(term), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })  // a failed lookup is not "no match"
        .then(function (data) { if (data && q.value.trim() === term) render(data.items || []); })
        .catch(function () { /* the Search button still works */ });
    }, 200);
  });
  q.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); } });
  // text typed before this script ran (a slow phone) is searched at once
  if (q.value.trim() && !box.querySelector("input")) { q.dispatchEvent(new Event("input")); }
})();
