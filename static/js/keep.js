// The header's 中文 / English is a link: following it reloads the page in the other language, and
// what was typed into the page's forms (a review request, a statement, the case number) was gone.
// With JavaScript, the link keeps it for this tab (sessionStorage) and the page, loaded again in the
// other language, puts it back into the same empty fields. Codes are never kept (the query code,
// an answer code, an SMS code). The filing forms switch by sending the form (web.public.intake),
// with or without JavaScript; this is for the other public pages.
(function () {
  "use strict";
  var KEY = "ct-kept-on-switch:" + location.pathname;
  var SECRET = /(^|_)code$|password/;
  function fields() {
    return Array.prototype.filter.call(
      document.querySelectorAll("main form textarea[id], main form input[id]"),
      function (el) {
        var type = (el.getAttribute("type") || "text").toLowerCase();
        return ["text", "search", "tel", "email", "number", "textarea"].indexOf(el.tagName === "TEXTAREA" ? "textarea" : type) >= 0
          && !SECRET.test(el.name || "") && el.autocomplete !== "one-time-code";
      });
  }
  var link = document.querySelector("header nav.lang a");
  if (link) {
    link.addEventListener("click", function () {
      var kept = {};
      fields().forEach(function (el) { if (el.value.trim()) kept[el.id] = el.value; });
      try {
        if (Object.keys(kept).length) sessionStorage.setItem(KEY, JSON.stringify(kept));
      } catch (e) { /* storage off or full: the switch goes on without it */ }
    });
  }
  var saved = null;
  try {
    saved = sessionStorage.getItem(KEY);
    sessionStorage.removeItem(KEY);
  } catch (e) { return; }
  if (!saved) return;
  var kept = JSON.parse(saved);
  fields().forEach(function (el) {
    if (kept[el.id] && !el.value) {
      el.value = kept[el.id];
      var box = el.closest("details");
      if (box) box.open = true;
    }
  });
})();
