// The receipt's buttons: copy the number and the query code, print or save. Both are hidden
// in the page and shown here, so a browser without JavaScript never sees a button that does
// nothing (the print view is a plain link there).
(function () {
  "use strict";

  function say(btn, text) {
    var out = document.getElementById(btn.getAttribute("aria-controls") || "");
    if (out) out.textContent = text;
  }

  // Fallback where the Clipboard API is missing or refused: select the codes so that the
  // phone's own copy command takes them, and try the old copy command once.
  function selectCodes(btn) {
    var box = document.querySelector(btn.getAttribute("data-select") || ".codes");
    if (!box) return false;
    var range = document.createRange();
    range.selectNodeContents(box);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    return copied;
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (btn) {
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var text = btn.getAttribute("data-copy");
      var done = function () { say(btn, btn.getAttribute("data-done")); };
      var fallback = function () {
        say(btn, btn.getAttribute(selectCodes(btn) ? "data-done" : "data-selected"));
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, fallback);
      } else {
        fallback();
      }
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (btn) {
    btn.hidden = false;
    btn.addEventListener("click", function () { window.print(); });
  });
})();
