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
