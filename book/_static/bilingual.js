// Show one language at a time; remember the reader's choice across pages and visits.
(function () {
  "use strict";
  var KEY = "dlbook-lang";
  var LABEL = { ko: "English", en: "한국어" };
  var TITLE = { ko: "Show the English text", en: "한국어로 보기" };

  function stored() {
    try { return window.localStorage.getItem(KEY); } catch (e) { return null; }
  }

  function preferred() {
    var s = stored();
    if (s === "ko" || s === "en") return s;
    var langs = navigator.languages || [navigator.language || "ko"];
    for (var i = 0; i < langs.length; i++) {
      var l = (langs[i] || "").toLowerCase();
      if (l.indexOf("ko") === 0) return "ko";
      if (l.indexOf("en") === 0) return "en";
    }
    return "ko";
  }

  function apply(lang) {
    var root = document.documentElement;
    root.setAttribute("lang", lang);
    root.setAttribute("data-dlbook-lang", lang);
    var button = document.querySelector(".dlbook-lang-switch");
    if (button) {
      button.textContent = LABEL[lang];
      button.title = TITLE[lang];
      button.setAttribute("aria-label", TITLE[lang]);
    }
  }

  function choose(lang) {
    try { window.localStorage.setItem(KEY, lang); } catch (e) { /* private mode */ }
    apply(lang);
  }

  apply(preferred());  // runs in <head>: no flash of the other language

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "dlbook-lang-switch";
    button.addEventListener("click", function () {
      choose(document.documentElement.getAttribute("data-dlbook-lang") === "ko" ? "en" : "ko");
    });
    document.body.appendChild(button);
    apply(document.documentElement.getAttribute("data-dlbook-lang") || preferred());
  });
})();
