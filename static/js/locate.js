// "Use my location": fills the place field with the device's coordinates.
// Progressive enhancement: without JavaScript or geolocation the button stays hidden
// and the form works with a typed place. Its messages come translated in the wrapper's data attributes.
(function () {
  "use strict";
  if (!("geolocation" in navigator)) {
    return;
  }
  document.querySelectorAll("[data-locate]").forEach(function (wrapper) {
    var button = wrapper.querySelector("[data-locate-button]");
    var status = wrapper.querySelector("[data-locate-status]");
    var field = document.getElementById(button.dataset.locateTarget);
    if (!field) {
      return;
    }
    wrapper.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = wrapper.dataset.locateFinding;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          // Three decimals (about 100 m) is enough to find help and keeps the exact spot out of the URL.
          field.value = position.coords.latitude.toFixed(3) + "," + position.coords.longitude.toFixed(3);
          status.textContent = wrapper.dataset.locateFound;
          field.focus();
        },
        function () {
          status.textContent = wrapper.dataset.locateFailed;
        },
        { enableHighAccuracy: false, timeout: 10000, maximumAge: 600000 }
      );
    });
  });
})();
