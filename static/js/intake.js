// Progressive enhancement for the filing form; everything works without it.
(function () {
  "use strict";
  var form = document.querySelector("form.intake");
  if (!form) return;

  // 1. Send once: a second tap while the first is on its way does nothing. (A file over the
  // limit stops the sending before this runs: static/js/files.js.)
  form.addEventListener("submit", function (ev) {
    var btn = ev.submitter;
    if (!btn || !btn.hasAttribute("data-once")) return;  // Search, Remove, a new code: sent as they are
    if (form.dataset.sent) { ev.preventDefault(); return; }
    form.dataset.sent = "1";
    setTimeout(function () { btn.disabled = true; }, 0);
  });

  // 2a. A text at its length limit says so: a paste past the limit was cut without a word
  // (maxlength drops the rest); the note stands under the field while the text is at the limit.
  function atLimit(el) {
    var note = el.parentNode.querySelector(".limit-note");
    var full = el.maxLength > 0 && el.value.length >= el.maxLength;
    if (full && !note) {
      note = document.createElement("p");
      note.className = "hint limit-note";
      note.setAttribute("role", "status");
      note.textContent = (form.dataset.atLimit || "").replace("{max}", String(el.maxLength));
      el.parentNode.insertBefore(note, el.nextSibling);
    } else if (!full && note) {
      note.parentNode.removeChild(note);
    }
  }
  Array.prototype.forEach.call(form.querySelectorAll("input[maxlength], textarea[maxlength]"), function (el) {
    el.addEventListener("input", function () { atLimit(el); });
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
    // a radio button the server drew says whether the group is required, invalid and described
    var model = form.querySelector('input[name="association"]');
    var zh = (document.documentElement.lang || "").indexOf("zh") === 0;
    // on an English page, Chinese text (a name with no English one, the Chinese name, a short name
    // in Chinese) says so: a screen reader reads it in Chinese (WCAG 3.1.2)
    function part(text, chinese) {
      if (!chinese || zh) return document.createTextNode(text);
      var el = document.createElement("span");
      el.textContent = text;
      el.lang = "zh-CN";
      return el;
    }
    function isChinese(text) { return /[^\x00-\x7f]/.test(text || ""); }
    fresh.forEach(function (a) {
      var label = document.createElement("label");
      label.className = "option";
      var input = document.createElement("input");
      input.type = "radio"; input.name = "association"; input.value = a.credit_code;
      if (model) {
        ["required", "aria-invalid", "aria-describedby"].forEach(function (name) {
          if (model.hasAttribute(name)) input.setAttribute(name, model.getAttribute(name));
        });
      }
      var span = document.createElement("span");
      span.appendChild(part(a.name, a.name === a.name_zh));
      // a Chinese page writes the short name in full-width brackets, an English one in ASCII ones
      if (a.abbreviation) {
        span.appendChild(document.createTextNode(zh ? "（" : " ("));
        span.appendChild(part(a.abbreviation, isChinese(a.abbreviation)));
        span.appendChild(document.createTextNode(zh ? "）" : ")"));
      }
      var small = document.createElement("small");
      if (a.name_zh && a.name_zh !== a.name) {
        small.appendChild(part(a.name_zh, true));
        small.appendChild(document.createTextNode(" · "));
      }
      small.appendChild(document.createTextNode(a.credit_code));
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
      // in the page's language, not the browser's: a phone set to English reading the Chinese
      // site (no language cookie yet) sees the associations' Chinese names first
      fetch(q.dataset.typeahead + "?q=" + encodeURIComponent(term), { credentials: "same-origin",
        headers: { "Accept": "application/json", "Accept-Language": document.documentElement.lang || "zh-CN" } })
        .then(function (r) { return r.ok ? r.json() : null; })  // a failed lookup is not "no match"
        .then(function (data) { if (data && q.value.trim() === term) render(data.items || []); })
        .catch(function () { /* the Search button still works */ });
    }, 200);
  });
  q.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); } });
  // text typed before this script ran (a slow phone) is searched at once
  if (q.value.trim() && !box.querySelector("input")) { q.dispatchEvent(new Event("input")); }
})();

// 4. The SMS code's step (web.public.intake): sending the code, a wrong or missing code and a new
// code refused answer 303 See Other to the form's GET address, ?draft=<the form's token>, which the server fills in
// from the draft it kept (casework.intake.drafts), with the code's box, the files staged under the
// token and, once, the code's error: back from the receipt, or a reload, asks nothing, with or
// without this script. Two things are left here:
// - what is typed after that is kept for this tab (sessionStorage: never a code, a token or a
//   file) and put back over the draft's older text when the form's address opens again;
// - a page with the box that still answers a POST (a look-up, an error elsewhere) takes the form's address as its history entry, so a reload or back asks nothing either.
// Once the case is filed the form's address opens empty, and the kept text is dropped.
(function () {
  "use strict";
  var form = document.querySelector("form.intake");
  if (!form) return;
  var store = null;
  try { store = window.sessionStorage; } catch (e) { store = null; }
  var KEY = "ct-intake-typed:" + location.pathname;
  if (!form.querySelector("#verify_code")) {
    try { if (store) store.removeItem(KEY); } catch (e) { /* storage off */ }
    return;
  }
  var token = form.querySelector("input[name=form_token]");
  if (form.dataset.answered === "POST" && token && window.history && history.replaceState) {
    history.replaceState(history.state, "", location.pathname + "?draft=" + encodeURIComponent(token.value));
  }
  if (!store) return;
  var SKIP = /^(csrf_token|form_token|verification_id|verify_code|action|remove_file)$/;
  function controls() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !SKIP.test(el.name) && ["file", "submit", "button", "hidden", "password"].indexOf(el.type) < 0;
    });
  }
  function save() {
    var kept = {};
    controls().forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) (kept[el.name] = kept[el.name] || []).push(el.value);
      } else if (el.value) {
        kept[el.name] = [el.value];
      }
    });
    try { store.setItem(KEY, JSON.stringify(kept)); } catch (e) { /* full: the form still works */ }
  }
  if (form.dataset.answered === "GET") {  // the form's address with the box: what was typed since
    var kept = null;
    try { kept = JSON.parse(store.getItem(KEY) || "null"); } catch (e) { kept = null; }
    if (kept) {
      controls().forEach(function (el) {
        var v = kept[el.name];
        if (!v) return;
        if (el.type === "radio" || el.type === "checkbox") {
          if (v.indexOf(el.value) >= 0 && !el.checked) {
            el.checked = true;
            el.dispatchEvent(new Event("change", { bubbles: true }));
          }
        } else if (el.value !== v[0]) {
          el.value = v[0];
          el.dispatchEvent(new Event(el.tagName === "SELECT" ? "change" : "input", { bubbles: true }));
        }
      });
    }
  }
  save();
  form.addEventListener("input", save);
  form.addEventListener("change", save);
})();
