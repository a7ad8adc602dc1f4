// lanscout admin pages: the copy button beside a token shown once.
// Loaded with defer; the pages work without it (the token can be selected
// and copied by hand).
"use strict";
document.querySelectorAll("button[data-copy]").forEach(function (btn) {
  btn.addEventListener("click", function () {
    var id = btn.getAttribute("data-copy");
    var el = document.getElementById(id);
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (!el) return;
    var text = el.textContent.trim();
    var done = function (msg) { if (status) status.textContent = msg; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done("Copied."); },
        function () { selectText(el); done("Press Ctrl+C to copy."); });
    } else {
      selectText(el);
      done("Press Ctrl+C to copy.");
    }
  });
});

function selectText(el) {
  var range = document.createRange();
  range.selectNodeContents(el);
  var sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
}

// Deleting and revoking ask first; without script the button acts at once.
document.querySelectorAll("form[data-confirm]").forEach(function (form) {
  form.addEventListener("submit", function (ev) {
    if (!window.confirm(form.getAttribute("data-confirm"))) ev.preventDefault();
  });
});
