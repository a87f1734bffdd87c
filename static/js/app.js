// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // On narrow screens the main navigation folds behind a "Menu" button (open without JS).
  var toggle = document.querySelector(".nav-toggle");
  var nav = document.getElementById("main-nav");
  if (toggle && nav) {
    toggle.hidden = false;
    document.querySelector(".topbar").classList.add("nav-collapsible");
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // Copy buttons: <button data-copy="#input-id">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    var done = function () {
      var label = button.textContent;
      button.textContent = "✓";
      setTimeout(function () { button.textContent = label; }, 1200);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done);
    } else {
      field.select();
      document.execCommand("copy");
      done();
    }
  });

  // Sign-up: the browser's time zone, so dates show in local time from the first page.
  document.querySelectorAll('input[type="hidden"][name="timezone"]').forEach(function (field) {
    try {
      if (!field.value) field.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) { /* an old browser: the profile has the setting */ }
  });

  // Confirm before forms that move money or block people: <form data-confirm="...">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
