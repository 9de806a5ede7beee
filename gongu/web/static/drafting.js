// The case forms' small behaviours (no inline scripts: the CSP allows scripts from /static only).
document.addEventListener("DOMContentLoaded", function () {
  // New case: show the notice fields and people of the chosen kind; the others are disabled, not sent.
  var form = document.getElementById("new-case");
  if (form) {
    var show = function () {
      var kind = (form.querySelector("input[name=kind]:checked") || {}).value;
      form.querySelectorAll("[class^=kind-]").forEach(function (el) {
        el.hidden = el.className !== "kind-" + kind;
        el.querySelectorAll("input, textarea, select").forEach(function (i) { i.disabled = el.hidden; });
      });
    };
    form.addEventListener("change", show);
    show();
  }
});
