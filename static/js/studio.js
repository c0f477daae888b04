// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  // Ask before destructive form posts: <form data-confirm="Delete?">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  // Copy buttons: data-copy-from="prev" copies the previous input; data-copy-text copies a value.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-from],[data-copy-text]");
    if (!button) return;
    var text = button.getAttribute("data-copy-text");
    if (text === null) {
      var input = button.previousElementSibling;
      text = input ? input.value : "";
    }
    if (navigator.clipboard) navigator.clipboard.writeText(text);
    var label = button.textContent;
    button.textContent = "✓";
    setTimeout(function () { button.textContent = label; }, 1200);
  });
})();
// Studio page: pausing the live poller in hidden tabs, elapsed-time tickers, the sample prompt,
// and keeping the filters right for the back button. No inline scripts, no eval (strict CSP).
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Hidden tabs do not poll: cancel [data-poll] requests while hidden, poll at once on return.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (document.hidden && elt && elt.hasAttribute && elt.hasAttribute("data-poll")) event.preventDefault();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) return;
    document.querySelectorAll("[data-poll]").forEach(function (el) { window.htmx.trigger(el, "studio:wake"); });
  });

  // Elapsed time on pending cards ("1:05") from data-since, corrected by the server's clock.
  var skew = 0;
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var start = Date.parse(el.getAttribute("data-since"));
      if (isNaN(start)) return;
      var s = Math.max(0, Math.floor((now - start) / 1000));
      var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
      el.textContent = (h ? h + ":" + pad(m) : m) + ":" + pad(s % 60);
    });
  }
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail && event.detail.xhr;
    var date = xhr && Date.parse(xhr.getResponseHeader("Date") || "");
    if (date) skew = date + 500 - Date.now();
  });
  // "5 minutes ago" on <time data-relative datetime=…> in the page's language (cards are cached
  // server-side, so the server sends the date and the browser says how long ago it was).
  var lang = document.documentElement.lang || undefined;
  var rtf = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, { numeric: "auto" }) : null;
  var STEPS = [[60, "second"], [60, "minute"], [24, "hour"], [7, "day"], [4.345, "week"], [12, "month"], [Infinity, "year"]];
  function relative(seconds) {
    if (seconds < 45) return rtf.format(0, "second");
    var value = seconds;
    for (var i = 0; i < STEPS.length; i++) {
      if (Math.abs(value) < STEPS[i][0]) return rtf.format(-Math.round(value), STEPS[i][1]);
      value /= STEPS[i][0];
    }
  }
  function ages() {
    if (!rtf) return;
    var now = Date.now() + skew;
    document.querySelectorAll("time[data-relative]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("datetime"));
      if (isNaN(at)) return;
      if (!el.title) el.title = el.textContent.trim();
      el.textContent = relative(Math.max(0, (now - at) / 1000));
    });
  }
  function refresh() { tick(); ages(); }
  document.addEventListener("htmx:afterSettle", refresh);
  document.addEventListener("htmx:historyRestore", refresh);
  refresh();
  setInterval(tick, 1000);
  setInterval(ages, 30000);

  // Empty gallery: "Use this prompt" fills the generation form.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-fill-prompt]");
    var field = button && document.querySelector("textarea[name=prompt]");
    if (!field) return;
    field.value = button.getAttribute("data-fill-prompt");
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.focus();
  });

  // htmx's back-button snapshots keep attributes, not what was typed or picked. Once a filtered
  // gallery is in the history, write the filters' values into their attributes, so the snapshot
  // taken before the next change shows the filters that belong to this URL.
  document.addEventListener("htmx:pushedIntoHistory", function () {
    var form = document.getElementById("filters");
    if (!form) return;
    form.querySelectorAll("input, select").forEach(function (el) {
      if (el.tagName === "SELECT") {
        Array.prototype.forEach.call(el.options, function (o) { o.toggleAttribute("selected", o.selected); });
      } else if (el.type === "checkbox") {
        el.toggleAttribute("checked", el.checked);
      } else {
        el.setAttribute("value", el.value);
      }
    });
  });
})();
