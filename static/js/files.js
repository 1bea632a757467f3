// A file over the limit: said as soon as it is chosen, in the server's own words, and nothing is
// sent while it is chosen (the server would refuse it only after the whole upload, up to 50 MB
// over a phone's network). Every form with data-max-mb (the filing form, the status page's
// material and evidence, the desk's moves with files); without JavaScript the server says it.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("form[data-max-mb]"), function (form) {
    var maxBytes = parseInt(form.dataset.maxMb, 10) * 1048576;
    var inputs = form.querySelectorAll("input[type=file]");
    Array.prototype.forEach.call(inputs, function (input) {
      input.addEventListener("change", function () {
        var big = Array.prototype.filter.call(input.files, function (f) { return f.size > maxBytes; });
        input.setCustomValidity(big.map(function (f) {
          return (form.dataset.tooBig || "{name} > " + form.dataset.maxMb + " MB").replace("{name}", f.name);
        }).join(" "));
        if (big.length) input.reportValidity();
      });
    });
    // before the form's other submit handlers (this file is loaded first; capture on the form):
    // a stopped send must not count as sent
    form.addEventListener("submit", function (ev) {
      var tooBig = Array.prototype.filter.call(inputs, function (input) {
        return input.validity.customError && !input.closest("[hidden]");
      });
      if (!tooBig.length) return;
      ev.preventDefault();
      ev.stopImmediatePropagation();
      tooBig[0].focus();
      tooBig[0].reportValidity();
    }, true);
  });
})();
