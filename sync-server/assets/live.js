// nachbar live pages: an element with data-live-events (a server-sent events URL) and
// data-live-src (the fragment URL) is refreshed in place when the server says a document it
// shows changed. The swap morphs (htmx innerMorph), so focus and typed input survive; the
// result is announced in the page's live region. No inline script: CSP script-src 'self'.
(function () {
  "use strict";
  function refresh(el) {
    var src = el.getAttribute("data-live-src");
    if (!src || !window.htmx) return;
    // Opened disclosure widgets stay open across the refresh.
    var open = [];
    var before = el.querySelectorAll("details");
    for (var i = 0; i < before.length; i++) open.push(before[i].open);
    window.htmx.ajax("GET", src, { target: el, swap: "innerMorph" }).then(function () {
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
