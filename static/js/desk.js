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

  // a form that takes something from a colleague (认领 on an assigned case) asks first
  Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });

  // a canned reply fills the reply box when its "Fill in" button is pressed (its text is on the
  // page, in the list below the box); choosing in the list alone changes nothing (WCAG 3.2.2)
  Array.prototype.forEach.call(document.querySelectorAll("button[data-canned-select]"), function (btn) {
    btn.addEventListener("click", function () {
      var sel = document.getElementById(btn.getAttribute("data-canned-select"));
      var source = sel && sel.value && document.getElementById(sel.value);
      var target = document.getElementById(btn.getAttribute("data-canned-target"));
      if (!source || !target) { if (sel) sel.focus(); return; }
      if (target.value.trim() && target.value !== target.dataset.filled &&
          !window.confirm(btn.getAttribute("data-confirm") || "Replace?")) { return; }
      target.value = source.textContent;
      target.dataset.filled = target.value;
      // a complaint's reply: the laws the canned reply rests on, unless the handler typed others
      var basis = document.getElementById(btn.getAttribute("data-canned-basis") || "");
      if (basis && source.dataset.legalBasis &&
          (!basis.value.trim() || basis.value === basis.dataset.filled)) {
        basis.value = source.dataset.legalBasis;
        basis.dataset.filled = basis.value;
      }
      target.focus();
    });
  });

  // before the idle limit (the server's, data-idle-seconds): a warning and "Stay signed in"
  // (WCAG 2.2.1). Typing into a form is activity: the session is kept by itself then. The last
  // contact with the server is shared between this browser's tabs (localStorage), so one tab in
  // use keeps the others from warning. The server records activity at most once a minute: the
  // end is taken a minute early.
  var box = document.getElementById("idle-warning");
  if (box && window.fetch) {
    var idle = Number(box.getAttribute("data-idle-seconds")) * 1000;
    var margin = Math.min(60000, idle / 4), lead = Math.min(120000, idle / 4);
    var KEY = "changtong.staff.seen";
    var message = document.getElementById("idle-message");
    var stay = document.getElementById("stay-signed-in");
    var seen = Date.now(), typed = false, timer = null, before = null, asking = false;
    var shared = function () { try { return Number(window.localStorage.getItem(KEY)) || 0; } catch (e) { return 0; } };
    var share = function () { try { window.localStorage.setItem(KEY, String(seen)); } catch (e) { /* private mode */ } };
    var isTyping = function (el) {
      return !!el && (el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
        (el.tagName === "INPUT" && !/^(button|submit|reset|checkbox|radio|file|hidden)$/.test(el.type)));
    };
    var say = function (text) {
      box.hidden = false;
      message.textContent = "";
      window.setTimeout(function () { message.textContent = text; }, 50);  // announced as new
    };
    var hide = function () {
      if (document.activeElement === stay && before && document.contains(before)) before.focus();
      box.hidden = true;
      message.textContent = "";
    };
    var schedule = function () {
      window.clearTimeout(timer);
      var end = Math.max(seen, shared()) + idle - margin, now = Date.now();
      if (now >= end) return ended();
      if (now >= end - lead) return warn(end);
      if (!box.hidden && stay.hidden === false) hide();  // kept meanwhile (another tab)
      timer = window.setTimeout(schedule, end - lead - now);
    };
    var warn = function (end) {
      if (typed) return keepAlive();
      if (box.hidden || stay.hidden) {
        before = document.activeElement;
        stay.hidden = false;
        say(box.getAttribute("data-warning"));
        if (!isTyping(before)) stay.focus();  // one key keeps the session; never taken from a text being typed
      }
      timer = window.setTimeout(schedule, Math.max(1000, Math.min(end - Date.now(), 5000)));
    };
    var endedAt = 0;
    var ended = function () {
      if (!endedAt) {
        endedAt = Date.now();
        stay.hidden = true;
        say(box.getAttribute("data-ended"));
      }
      timer = window.setTimeout(function () {  // a page of another tab was seen signed in since: this one goes on
        if (shared() > endedAt) { endedAt = 0; seen = shared(); hide(); schedule(); } else { ended(); }
      }, 15000);
    };
    var keepAlive = function () {
      if (asking) return;
      asking = true;
      window.fetch(box.getAttribute("data-keep-alive"), {
        method: "POST", credentials: "same-origin",
        headers: {"X-CSRFToken": box.getAttribute("data-csrf"), "Accept": "application/json"}
      }).then(function (r) {
        asking = false;
        if (r.status === 204) {
          seen = Date.now(); typed = false; share();
          if (!box.hidden) {
            stay.hidden = true;
            if (document.activeElement === stay && before && document.contains(before)) before.focus();
            say(box.getAttribute("data-kept"));
            window.setTimeout(function () { if (stay.hidden) hide(); }, 4000);
          }
          schedule();
        } else if (r.status === 401) {
          ended();
        } else {
          typed = false; schedule();
        }
      }, function () { asking = false; typed = false; timer = window.setTimeout(schedule, 5000); });
    };
    stay.addEventListener("click", keepAlive);
    document.addEventListener("input", function (ev) { if (ev.target && ev.target.form) typed = true; });
    window.addEventListener("storage", function (ev) { if (ev.key === KEY && !endedAt) schedule(); });
    share();
    schedule();
  }

  // a transfer's (or a route's) unit list, grouped by kind, narrowed as one types: every word typed
  // must occur in a unit's names, code or region code (as the server's Filter button does without a
  // script; that button is left out here, and Enter in the box does not send the form)
  Array.prototype.forEach.call(document.querySelectorAll("input[data-unit-filter]"), function (box) {
    var select = document.getElementById(box.getAttribute("data-unit-filter"));
    var count = document.getElementById(box.getAttribute("data-unit-filter") + "-count");
    if (!select) return;
    var go = box.form && box.form.querySelector("[name=unit_filter_go]");
    if (go) go.hidden = true;
    var groups = Array.prototype.map.call(select.querySelectorAll("optgroup"), function (g) {
      return {el: g, options: Array.prototype.slice.call(g.querySelectorAll("option"))};
    });
    var total = Number(count && count.getAttribute("data-total")) || 0;
    var narrow = function () {
      var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      groups.forEach(function (g) {
        // rebuilt rather than hidden: a hidden <option> still shows in some browsers' lists
        while (g.el.firstChild) g.el.removeChild(g.el.firstChild);
        g.options.forEach(function (o) {
          var text = o.getAttribute("data-search") || "";
          if (o.selected || words.every(function (w) { return text.indexOf(w) >= 0; })) {
            g.el.appendChild(o);
            shown += 1;
          }
        });
        if (g.el.childNodes.length && !g.el.parentNode) select.appendChild(g.el);
        if (!g.el.childNodes.length && g.el.parentNode) select.removeChild(g.el);
      });
      groups.forEach(function (g) { if (g.el.parentNode) select.appendChild(g.el); });  // in their order
      if (!count) return;
      count.textContent = !words.length ? "" : shown ? count.getAttribute("data-shown-text")
        .replace("%(shown)s", shown).replace("%(total)s", total) : count.getAttribute("data-none-text");
    };
    box.addEventListener("input", narrow);
    box.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") { ev.preventDefault(); select.focus(); }
    });
  });

  // the account menu under the name in the bar closes on a click elsewhere and on Escape
  Array.prototype.forEach.call(document.querySelectorAll("details.account"), function (menu) {
    document.addEventListener("click", function (ev) { if (menu.open && !menu.contains(ev.target)) menu.open = false; });
    menu.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && menu.open) { menu.open = false; menu.querySelector("summary").focus(); }
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
