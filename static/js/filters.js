// The search page's filters: on phones they wait behind a closed disclosure, so the results come first.
// From Bootstrap's md width up, site.css shows them beside the results through ::details-content;
// browsers without that pseudo-element get the disclosure opened here instead. Without JavaScript
// those browsers show the summary, and one tap opens the filters.
(function () {
  "use strict";

  var disclosure = document.querySelector("[data-filters-disclosure]");
  if (!disclosure || (window.CSS && CSS.supports("selector(::details-content)"))) {
    return;
  }
  var wide = window.matchMedia("(min-width: 768px)");

  function openWhenWide() {
    if (wide.matches) {
      disclosure.open = true;
    }
  }

  openWhenWide();
  wide.addEventListener("change", openWhenWide);
})();
