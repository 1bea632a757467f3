// Small helpers for the desk; every page works without them.
(function () {
  "use strict";

  // elements that only make sense with JavaScript start hidden
  Array.prototype.forEach.call(document.querySelectorAll("[data-js-only]"), function (el) {
    el.hidden = false;
  });

  // on a phone the queue's filters are folded under their summary, unless one is in use
  // (a wider window opens them again: there the summary is not shown)
  var narrow = window.matchMedia("(max-width: 40rem)");
  Array.prototype.forEach.call(document.querySelectorAll("details[data-fold-narrow]"), function (box) {
    if (narrow.matches && !box.hasAttribute("data-in-use")) box.open = false;
    narrow.addEventListener("change", function (ev) { if (!ev.matches) box.open = true; });
  });

  // the unit switcher navigates as soon as a unit is chosen
  Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), function (sel) {
    sel.addEventListener("change", function () { if (sel.form) sel.form.submit(); });
  });

  // a canned reply fills the reply box (its text is on the page, in the list below the box)
  Array.prototype.forEach.call(document.querySelectorAll("select[data-canned-target]"), function (sel) {
    sel.addEventListener("change", function () {
      var source = sel.value && document.getElementById(sel.value);
      var target = document.getElementById(sel.getAttribute("data-canned-target"));
      if (!source || !target) return;
      if (target.value.trim() && target.value !== target.dataset.filled &&
          !window.confirm(sel.getAttribute("data-confirm") || "Replace?")) { return; }
      target.value = source.textContent;
      target.dataset.filled = target.value;
      // a complaint's reply: the laws the canned reply rests on, unless the handler typed others
      var basis = document.getElementById(sel.getAttribute("data-canned-basis") || "");
      if (basis && source.dataset.legalBasis &&
          (!basis.value.trim() || basis.value === basis.dataset.filled)) {
        basis.value = source.dataset.legalBasis;
        basis.dataset.filled = basis.value;
      }
      target.focus();
    });
  });

  // select all rows of the queue page
  var all = document.getElementById("select-all");
  if (all) {
    all.hidden = false;
    var boxes = document.querySelectorAll("table.queue input[name=case]");
    all.addEventListener("change", function () {
      Array.prototype.forEach.call(boxes, function (b) { b.checked = all.checked; });
    });
  }
})();
