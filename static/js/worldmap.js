/*
 * The world map of the statistics page: countries shaded by how many people
 * live there, read from the country table named by data-table (rows carry
 * data-key, the alpha-2 code, and data-numeric, the ISO numeric code that
 * world-atlas uses as feature id). Pointing at or focusing a country tells its
 * count; when data-list-url is set (users who may see records), clicking or
 * pressing Enter opens the people list of that country.
 *
 *   <figure data-worldmap data-atlas-url="..." data-table="table-country"
 *           [data-list-url="/people/?country=__CODE__"]>
 *     <div data-worldmap-canvas></div><figcaption data-worldmap-status></figcaption>
 */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var WIDTH = 960;
  var HEIGHT = 500;
  var SHADES = 5;

  function countsByNumeric(table) {
    var counts = {};
    var rows = table ? table.querySelectorAll("tbody tr[data-numeric]") : [];
    Array.prototype.forEach.call(rows, function (row) {
      var cell = row.querySelector("td[data-value]");
      var numeric = row.getAttribute("data-numeric");
      if (!cell || !numeric) {
        return;
      }
      var raw = cell.getAttribute("data-value");
      counts[numeric] = {
        code: row.getAttribute("data-key"),
        name: row.querySelector("th").textContent.trim(),
        value: raw === "" ? null : Number(raw),
        text: cell.textContent.trim()
      };
    });
    return counts;
  }

  function shadeOf(value, highest) {
    if (value === null) {
      return 1;  // hidden: a small count
    }
    if (!highest) {
      return 1;
    }
    // Square-root scale: one large country does not wash out all the others.
    return Math.max(1, Math.ceil(Math.sqrt(value / highest) * SHADES));
  }

  function element(name, attributes) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes || {}).forEach(function (key) {
      node.setAttribute(key, attributes[key]);
    });
    return node;
  }

  function draw(figure, topology) {
    var canvas = figure.querySelector("[data-worldmap-canvas]");
    var status = figure.querySelector("[data-worldmap-status]");
    var counts = countsByNumeric(document.getElementById(figure.getAttribute("data-table")));
    var listUrl = figure.getAttribute("data-list-url");
    var countries = window.topojson.feature(topology, topology.objects.countries);
    var projection = window.d3.geoEqualEarth().fitSize([WIDTH, HEIGHT], countries);
    var path = window.d3.geoPath(projection);
    var highest = 0;
    Object.keys(counts).forEach(function (key) {
      highest = Math.max(highest, counts[key].value || 0);
    });

    var svg = element("svg", { viewBox: "0 0 " + WIDTH + " " + HEIGHT, "class": "worldmap-svg",
                               focusable: "false" });
    countries.features.forEach(function (feature) {
      var found = counts[feature.id];
      var shape = element("path", { d: path(feature) || "",
                                    "class": "map-country" + (found ? " map-shade-" +
                                      shadeOf(found.value, highest) : "") });
      if (found) {
        shape.setAttribute("data-code", found.code);
        shape.setAttribute("tabindex", "0");
        shape.setAttribute("aria-label", found.name + ": " + found.text);
        if (listUrl) {
          shape.setAttribute("role", "link");
        }
        var title = element("title");
        title.textContent = found.name + ": " + found.text;
        shape.appendChild(title);
      }
      svg.appendChild(shape);
    });
    canvas.appendChild(svg);
    figure.setAttribute("data-worldmap-ready", "true");

    function tell(event) {
      var shape = event.target.closest("path[data-code]");
      if (shape && status) {
        status.textContent = shape.getAttribute("aria-label");
      }
    }

    function open(event) {
      var shape = event.target.closest("path[data-code]");
      if (!shape || !listUrl) {
        return;
      }
      if (event.type === "keydown" && event.key !== "Enter") {
        return;
      }
      window.location.assign(listUrl.replace("__CODE__",
                                             encodeURIComponent(shape.getAttribute("data-code"))));
    }

    svg.addEventListener("mouseover", tell);
    svg.addEventListener("focusin", tell);
    svg.addEventListener("click", open);
    svg.addEventListener("keydown", open);
  }

  function start(figure) {
    if (!window.topojson || !window.d3 || !window.d3.geoPath) {
      return;
    }
    fetch(figure.getAttribute("data-atlas-url"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (topology) { draw(figure, topology); })
      .catch(function () {
        figure.setAttribute("data-worldmap-ready", "failed");
      });
  }

  function startAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-worldmap]"), start);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", startAll);
  } else {
    startAll();
  }
})();
