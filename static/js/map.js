// The opt-in map. Leaflet and the map tiles load only after the person presses "Show map":
// tiles come from another host, and a visit must contact no one else unless they ask.
(function () {
  "use strict";

  var region = document.querySelector("[data-map]");
  if (!region) {
    return;
  }
  var settings = region.dataset;
  var button = region.querySelector("button");
  var canvas = document.getElementById(button.getAttribute("aria-controls"));
  var failure = region.querySelector("[data-map-error]");
  var loads = {};
  var map = null;
  var loading = false;

  // One promise per URL, forgotten on failure so that pressing the button again retries.
  function load(tagName, url) {
    if (!loads[url]) {
      loads[url] = new Promise(function (resolve, reject) {
        var element = document.createElement(tagName);
        if (tagName === "link") {
          element.rel = "stylesheet";
          element.href = url;
        } else {
          element.src = url;
        }
        element.onload = resolve;
        element.onerror = function () {
          element.remove();
          delete loads[url];
          reject(new Error("Could not load " + url));
        };
        document.head.appendChild(element);
      });
    }
    return loads[url];
  }

  function loadLeaflet() {
    return Promise.all([
      load("link", settings.leafletCss),
      load("link", settings.markerclusterCss),
      load("link", settings.markerclusterDefaultCss),
      // MarkerCluster extends the global L, so it must run after Leaflet.
      load("script", settings.leafletJs).then(function () {
        return load("script", settings.markerclusterJs);
      }),
    ]);
  }

  function popupContent(place) {
    var link = document.createElement("a");
    link.href = place.url;
    link.textContent = place.name;
    return link;
  }

  function createMap() {
    var places = JSON.parse(document.getElementById("map-data").textContent);
    // Explicit icon URLs: Leaflet guesses them from its CSS file name, which hashed static names break.
    var icon = L.icon(
      Object.assign({}, L.Icon.Default.prototype.options, {
        iconUrl: settings.markerIcon,
        iconRetinaUrl: settings.markerIcon2x,
        shadowUrl: settings.markerShadow,
      })
    );
    // The wheel keeps scrolling the page: the list, not the map, is the main view.
    var newMap = L.map(canvas, { scrollWheelZoom: false });
    L.tileLayer(settings.tileUrl, {
      attribution: settings.attribution,
      maxZoom: 19,
      // The site's referrer policy sends no Referer, which OpenStreetMap's tile servers refuse;
      // the origin alone satisfies them without revealing the search or the provider viewed.
      referrerPolicy: "strict-origin",
    }).addTo(newMap);

    var cluster = L.markerClusterGroup();
    var points = places.map(function (place) {
      var position = [place.lat, place.lng];
      var marker = L.marker(position, { icon: icon, title: place.name, alt: place.name });
      cluster.addLayer(marker.bindPopup(popupContent(place)));
      return position;
    });
    newMap.addLayer(cluster);
    newMap.fitBounds(L.latLngBounds(points), { padding: [24, 24], maxZoom: 15 });
    return newMap;
  }

  function setShown(shown) {
    canvas.hidden = !shown;
    button.textContent = shown ? settings.hideLabel : settings.showLabel;
    button.setAttribute("aria-expanded", String(shown));
    if (shown) {
      // The page may have been resized while the map was hidden.
      map.invalidateSize();
    }
  }

  button.addEventListener("click", function () {
    if (map) {
      setShown(canvas.hidden);
      return;
    }
    if (loading) {
      return;
    }
    loading = true;
    failure.hidden = true;
    // The canvas opens at once, while the press still explains the move: waiting for Leaflet would
    // push the results down later, unasked (a layout shift), on a slow connection seconds later.
    canvas.hidden = false;
    canvas.setAttribute("aria-busy", "true");
    loadLeaflet()
      .then(function () {
        map = createMap();
        setShown(true);
      })
      .catch(function () {
        canvas.hidden = true;
        failure.hidden = false;
      })
      .finally(function () {
        loading = false;
        canvas.removeAttribute("aria-busy");
      });
  });

  region.hidden = false;
})();
