// Quick exit: the link alone leaves the site without JavaScript. With it, the Esc key leaves too,
// and both replace this page in the history, so pressing Back does not bring the directory back.
(function () {
  "use strict";
  var link = document.querySelector("[data-quick-exit]");
  if (!link) {
    return;
  }
  function leave(event) {
    if (event) {
      event.preventDefault();
    }
    window.location.replace(link.href);
  }
  link.addEventListener("click", leave);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !event.defaultPrevented) {
      leave(event);
    }
  });
})();
