// Quick exit: the link alone leaves the site without JavaScript. With it, the Esc key leaves too,
// and both replace this page in the history, so pressing Back does not bring the directory back.
// Both forget the saved list kept on this device.
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
    // The saved list (saved_list.js) would show whoever picks up the device what was looked for.
    try {
      window.localStorage.removeItem("savedProviders");
    } catch (error) {
      // Storage turned off: nothing was kept.
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
