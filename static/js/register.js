/*
 * The public registration form: suggest the calling code of the country chosen.
 * Switched on by data- attributes, like static/js/app.js; no inline script.
 *
 *   <select data-phone-country data-phone-codes='{"JP": "+81", ...}'>
 *   <input data-phone-hint>          its placeholder becomes "+81 …"
 *   <p data-phone-hint-text data-template="… {code} …">   the hint under the phones
 */
(function () {
  "use strict";

  function codes(select) {
    try {
      return JSON.parse(select.getAttribute("data-phone-codes") || "{}");
    } catch (error) {
      console.warn("register: unreadable calling codes");
      return {};
    }
  }

  function suggest(select) {
    var code = codes(select)[select.value];
    var form = select.form || document;
    form.querySelectorAll("input[data-phone-hint]").forEach(function (input) {
      if (code) {
        input.setAttribute("placeholder", code + " …");
      } else {
        input.removeAttribute("placeholder");
      }
    });
    form.querySelectorAll("[data-phone-hint-text]").forEach(function (hint) {
      if (!hint.hasAttribute("data-original")) {
        hint.setAttribute("data-original", hint.textContent.trim());
      }
      var template = hint.getAttribute("data-template");
      hint.textContent = code && template ? template.split("{code}").join(code)
        : hint.getAttribute("data-original");
    });
  }

  function onChange(event) {
    var select = event.target;
    if (select.matches && select.matches("select[data-phone-country]")) {
      suggest(select);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-phone-country]").forEach(suggest);
  });
  document.addEventListener("change", onChange);
})();
