// Keyboard shortcuts of the desk: j/k move between items, r/o/c/e press the current item's verdict
// button, Enter opens it, / goes to search. No library, no inline script (the page's CSP forbids it).
(function () {
  "use strict";
  var items = Array.prototype.slice.call(document.querySelectorAll(".item"));
  var current = -1;
  function select(i) {
    if (!items.length) return;
    if (current >= 0) items[current].classList.remove("current");
    current = Math.max(0, Math.min(items.length - 1, i));
    items[current].classList.add("current");
    items[current].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) {
      if (ev.key === "Escape") t.blur();
      return;
    }
    if (ev.key === "j") { select(current + 1); ev.preventDefault(); }
    else if (ev.key === "k") { select(current - 1); ev.preventDefault(); }
    else if (ev.key === "/") { var q = document.getElementById("quick-search"); if (q) { q.focus(); ev.preventDefault(); } }
    else if (ev.key === "Enter" && current >= 0) { var a = items[current].querySelector("a.title"); if (a) a.click(); }
    else if (current >= 0 || items.length === 1) {
      var item = items[current >= 0 ? current : 0];
      var button = item.querySelector('button[data-key="' + ev.key + '"]');
      if (button) { ev.preventDefault(); button.click(); }
    }
  });
  if (items.length && document.body.dataset.page === "review") select(0);
})();
