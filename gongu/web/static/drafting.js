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
document.addEventListener("DOMContentLoaded", function () {
  // Photos: one caption input per chosen file, in the order the files are sent.
  var files = document.getElementById("photo-files");
  var box = document.getElementById("photo-captions");
  if (!files || !box) return;
  files.addEventListener("change", function () {
    box.textContent = "";
    Array.prototype.forEach.call(files.files, function (file, n) {
      var label = document.createElement("label");
      label.textContent = file.name + " 说明 ";
      var input = document.createElement("input");
      input.name = "captions";
      input.id = "caption-" + n;
      input.maxLength = 500;
      label.appendChild(input);
      box.appendChild(label);
    });
  });
});
// A refused save (409: another person saved the section first, or the case became read-only) still shows
// its message in the save status; htmx swaps only 2xx answers unless told.
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.xhr.status === 409) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
