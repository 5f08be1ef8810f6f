// nachbar live pages: an element with data-live-events (a server-sent events URL) and
// data-live-src (the fragment URL) is refreshed in place when the server says a document it
// shows changed. The swap morphs (htmx innerMorph), so focus and typed input survive; the
// result is announced in the page's live region. No inline script: CSP script-src 'self'.
(function () {
  "use strict";
  // A form the user has changed but not sent keeps what they entered across a refresh; every
  // other form shows the stored state again (a morph leaves the checked state and value of a
  // control the user once touched as it was, whatever the new page says).
  function markDirty(e) {
    if (e.target && e.target.form) e.target.form.nachbarDirty = true;
  }
  document.addEventListener("input", markDirty);
  document.addEventListener("change", markDirty);
  // No reset on submit: a sent form's answer replaces it (clean again), while a refused one
  // keeps it, with what the user typed, until they send it again.
  function syncForms(el) {
    var forms = el.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      if (forms[i].nachbarDirty) continue;
      var controls = forms[i].elements;
      for (var j = 0; j < controls.length; j++) {
        var c = controls[j];
        if (c.type === "radio" || c.type === "checkbox") c.checked = c.defaultChecked;
        else if (c.tagName === "SELECT") {
          for (var k = 0; k < c.options.length; k++) c.options[k].selected = c.options[k].defaultSelected;
        } else if (c.type !== "hidden" && c.type !== "submit" && "defaultValue" in c && c !== document.activeElement) c.value = c.defaultValue;
      }
    }
  }
  function refresh(el) {
    var src = el.getAttribute("data-live-src");
    if (!src || !window.htmx) return;
    // Opened disclosure widgets stay open across the refresh.
    var open = [];
    var before = el.querySelectorAll("details");
    for (var i = 0; i < before.length; i++) open.push(before[i].open);
    // A field marked data-keep (the sign-off's heads) keeps the version the user last got
    // from their own action: agreeing after a silent refresh then answers "changed since
    // you opened it" instead of covering what the user may not have looked at.
    var keep = {};
    var kept = el.querySelectorAll("[data-keep]");
    for (var m = 0; m < kept.length; m++) keep[kept[m].id] = kept[m].value;
    // A form the user has changed keeps the version it was filled in on: its change is then
    // made on what the user saw (and a concurrent one is kept for review, not overwritten).
    var dirtyHeads = [];
    var forms = el.querySelectorAll("form");
    for (var f = 0; f < forms.length; f++) {
      var h = forms[f].querySelector("input[name=heads]");
      if (forms[f].nachbarDirty && h) dirtyHeads.push([forms[f], h.value]);
    }
    window.htmx.ajax("GET", src, { target: el, swap: "innerMorph" }).then(function () {
      syncForms(el);
      for (var id in keep) {
        var field = document.getElementById(id);
        if (field) field.value = keep[id];
      }
      for (var d = 0; d < dirtyHeads.length; d++) {
        var input = dirtyHeads[d][0].querySelector("input[name=heads]");
        if (input && dirtyHeads[d][0].isConnected) input.value = dirtyHeads[d][1];
      }
      var after = el.querySelectorAll("details");
      if (after.length === open.length) {
        for (var j = 0; j < after.length; j++) if (open[j]) after[j].open = true;
      }
      var status = document.getElementById("live-status");
      if (status) status.textContent = status.getAttribute("data-updated") + " " + new Date().toLocaleTimeString(document.documentElement.lang);
      document.documentElement.setAttribute("data-live-refreshes", String(1 + Number(document.documentElement.getAttribute("data-live-refreshes") || 0)));
    });
  }
  function watch(el) {
    var url = el.getAttribute("data-live-events");
    if (!url || !window.EventSource) return;
    var source = new EventSource(url);
    var pending = null;
    source.addEventListener("changed", function () {
      // Several commits in a burst make one refresh.
      if (pending) return;
      pending = setTimeout(function () { pending = null; refresh(el); }, 50);
    });
    // The page is no longer the user's to see (a role was lost): load it again, which answers
    // "not found" and shows nothing of it.
    source.addEventListener("gone", function () {
      source.close();
      window.location.reload();
    });
    source.addEventListener("signed-out", function () {
      source.close();
      window.location.assign("/login");
    });
    source.addEventListener("open", function () {
      document.documentElement.setAttribute("data-live", "open");
    });
  }
  // In-place swaps (a form's answer) keep opened disclosure widgets open too.
  var kept = null;
  document.addEventListener("htmx:before:swap", function () {
    var live = document.getElementById("live");
    if (!live) return;
    kept = [];
    var ds = live.querySelectorAll("details");
    for (var i = 0; i < ds.length; i++) kept.push(ds[i].open);
  });
  document.addEventListener("htmx:after:swap", function () {
    var live = document.getElementById("live");
    if (!live || !kept) return;
    var ds = live.querySelectorAll("details");
    if (ds.length === kept.length) for (var i = 0; i < ds.length; i++) if (kept[i]) ds[i].open = true;
    kept = null;
  });
  function start() {
    var els = document.querySelectorAll("[data-live-events]");
    for (var i = 0; i < els.length; i++) watch(els[i]);
    var copy = document.querySelectorAll("[data-copy]");
    for (var j = 0; j < copy.length; j++) {
      copy[j].addEventListener("click", function (e) {
        var target = document.getElementById(e.currentTarget.getAttribute("data-copy"));
        if (target && navigator.clipboard) navigator.clipboard.writeText(target.textContent.trim());
      });
    }
    var print = document.querySelectorAll("[data-print]");
    for (var k = 0; k < print.length; k++) {
      print[k].addEventListener("click", function () { window.print(); });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
