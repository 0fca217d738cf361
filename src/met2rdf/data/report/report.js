// The network picture of a met2rdf report: two columns of concepts joined by edges whose
// width is the number of notes asserting them.  Data: the JSON block #report-data, written
// by met2rdf from SPARQL results.  No network; text is only ever set with textContent.
"use strict";
(function () {
  var SVG = "http://www.w3.org/2000/svg";
  var MAX_EDGES = 600;  // above this many edges, start with a higher "at least N notes"
  var PITCH = 18, TOP = 24, WIDTH = 1000, LEFT_X = 330, RIGHT_X = 670, MAX_LABEL = 44;
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var svg = document.getElementById("graph");
  var panel = document.getElementById("panel");
  var minInput = document.getElementById("min-notes");
  var shown = document.getElementById("shown");
  var buttons = document.querySelectorAll("[data-view]");
  var state = { view: data.views[0], min: 1 };

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    for (var key in attrs) node.setAttribute(key, attrs[key]);
    if (parent) parent.appendChild(node);
    return node;
  }

  function html(name, text, parent) {
    var node = document.createElement(name);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  function short(label) {
    return label.length > MAX_LABEL ? label.slice(0, MAX_LABEL - 1) + "\u2026" : label;
  }

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function sourceText(s) {
    var text = data.paths[s[0]] + ":" + s[1];
    return s[2] ? text + " (" + s[2] + ")" : text;
  }

  // The smallest "at least N notes" that shows at most MAX_EDGES edges.
  function defaultMin(view) {
    var counts = view.edges.map(function (e) { return e[2]; }).sort(function (a, b) { return b - a; });
    if (counts.length <= MAX_EDGES) return 1;
    return counts[MAX_EDGES] + 1;
  }

  // Left column in label order; right column by the weighted mean row of its neighbours.
  function layout(view, edges) {
    var starts = [], ends = [], seenStart = {}, seenEnd = {};
    edges.forEach(function (e) {
      if (!(e[0] in seenStart)) { seenStart[e[0]] = true; starts.push(e[0]); }
      if (!(e[1] in seenEnd)) { seenEnd[e[1]] = true; ends.push(e[1]); }
    });
    starts.sort(function (a, b) { return a - b; });
    var row = {}, weight = {}, centre = {};
    starts.forEach(function (s, i) { row[s] = i; });
    edges.forEach(function (e) {
      weight[e[1]] = (weight[e[1]] || 0) + e[2];
      centre[e[1]] = (centre[e[1]] || 0) + e[2] * row[e[0]];
    });
    ends.sort(function (a, b) {
      var d = centre[a] / weight[a] - centre[b] / weight[b];
      return d !== 0 ? d : a - b;
    });
    var rows = Math.max(starts.length, ends.length, 1);
    var pitch = rows < 12 ? 2 * PITCH : PITCH;  // a small graph is drawn looser
    var height = TOP * 2 + rows * pitch;
    function ys(list) {
      var pos = {}, step = (rows * pitch) / Math.max(list.length, 1);
      list.forEach(function (n, i) { pos[n] = TOP + (i + 0.5) * step; });
      return pos;
    }
    return { starts: starts, ends: ends, startY: ys(starts), endY: ys(ends), height: height };
  }

  function showEdge(view, e) {
    panel.textContent = "";
    var head = html("h3", view.starts[e[0]][0] + " \u2192 " + view.ends[e[1]][0], panel);
    head.title = view.relation;
    html("p", plural(e[2], "note") + ", " + plural(e[3].length, "statement") + ":", panel);
    var list = html("ol", undefined, panel);
    e[3].forEach(function (s) {
      var item = html("li", undefined, list);
      html("code", sourceText(s), item);
      if (s[3] >= 0) html("q", data.quotes[s[3]], item);
    });
  }

  function showNode(view, side, index, edges) {
    panel.textContent = "";
    var node = side === "start" ? view.starts[index] : view.ends[index];
    html("h3", node[0], panel);
    var mine = edges.filter(function (e) { return (side === "start" ? e[0] : e[1]) === index; });
    var other = side === "start" ? view.ends : view.starts;
    html("p", plural(mine.length, side === "start" ? view.to : view.from) + " shown:", panel);
    var list = html("ol", undefined, panel);
    mine.forEach(function (e) {
      var item = html("li", other[side === "start" ? e[1] : e[0]][0] + " \u2014 " +
                      plural(e[2], "note"), list);
      item.addEventListener("click", function () { showEdge(view, e); });
    });
    var target = document.getElementById(node[1]);
    if (target) {
      var link = html("a", "details below", html("p", undefined, panel));
      link.href = "#" + node[1];
      link.addEventListener("click", function () { target.open = true; });
    }
  }

  function highlight(edgeNodes, nodeNodes, on) {
    svg.classList.toggle("focus", on);
    edgeNodes.forEach(function (n) { n.classList.toggle("hi", on); });
    nodeNodes.forEach(function (n) { n.classList.toggle("hi", on); });
  }

  function draw() {
    var view = state.view;
    var edges = view.edges.filter(function (e) { return e[2] >= state.min; });
    var shape = layout(view, edges);
    var most = edges.reduce(function (m, e) { return Math.max(m, e[2]); }, 1);
    svg.textContent = "";
    svg.setAttribute("viewBox", "0 0 " + WIDTH + " " + shape.height);
    var frag = document.createDocumentFragment();
    var edgeLayer = el("g", { "class": "edges" }, frag);
    var nodeLayer = el("g", { "class": "nodes" }, frag);
    var byStart = {}, byEnd = {}, startNodes = {}, endNodes = {};
    edges.forEach(function (e) {
      var y1 = shape.startY[e[0]], y2 = shape.endY[e[1]], mid = (LEFT_X + RIGHT_X) / 2;
      var width = 1.5 + 8.5 * (e[2] - 1) / Math.max(most - 1, 1);
      var path = el("path", {
        "class": "edge", "d": "M" + LEFT_X + " " + y1 + " C" + mid + " " + y1 + " " + mid +
          " " + y2 + " " + RIGHT_X + " " + y2, "stroke-width": width.toFixed(2),
        "data-notes": e[2] }, edgeLayer);
      var tip = view.starts[e[0]][0] + " \u2192 " + view.ends[e[1]][0] + ": " +
        plural(e[2], "note") + "\n" + e[3].slice(0, 8).map(sourceText).join("\n") +
        (e[3].length > 8 ? "\n\u2026 and " + (e[3].length - 8) + " more (click)" : "");
      el("title", {}, path).textContent = tip;
      path.addEventListener("click", function () { showEdge(view, e); });
      (byStart[e[0]] = byStart[e[0]] || []).push(path);
      (byEnd[e[1]] = byEnd[e[1]] || []).push(path);
    });
    function node(side, index, y) {
      var label = side === "start" ? view.starts[index][0] : view.ends[index][0];
      var x = side === "start" ? LEFT_X : RIGHT_X;
      var g = el("g", { "class": "node " + side, "transform": "translate(" + x + " " + y + ")" },
                 nodeLayer);
      el("circle", { "r": 4 }, g);
      var text = el("text", { "x": side === "start" ? -8 : 8, "dy": "0.35em",
                              "text-anchor": side === "start" ? "end" : "start" }, g);
      text.textContent = short(label);
      el("title", {}, g).textContent = label;
      var mine = (side === "start" ? byStart : byEnd)[index] || [];
      g.addEventListener("mouseenter", function () { highlight(mine, [g], true); });
      g.addEventListener("mouseleave", function () { highlight(mine, [g], false); });
      g.addEventListener("click", function () { showNode(view, side, index, edges); });
      (side === "start" ? startNodes : endNodes)[index] = g;
    }
    shape.starts.forEach(function (s) { node("start", s, shape.startY[s]); });
    shape.ends.forEach(function (s) { node("end", s, shape.endY[s]); });
    if (!edges.length) {
      el("text", { "class": "empty", "x": WIDTH / 2, "y": TOP, "text-anchor": "middle" }, frag)
        .textContent = "No " + view.from + " \u2192 " + view.to + " facts" +
          (view.edges.length ? " in " + state.min + " notes or more." : " in this graph.");
    }
    svg.appendChild(frag);
    shown.textContent = "showing " + plural(edges.length, "edge") + " of " + view.edges.length +
      " between " + plural(shape.starts.length, view.from) + " and " +
      plural(shape.ends.length, view.to);
    document.documentElement.setAttribute("data-rendered", view.id);
    window.met2rdfRenderedAt = performance.now();
  }

  function select(view) {
    state.view = view;
    state.min = defaultMin(view);
    minInput.value = state.min;
    buttons.forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-view") === view.id));
    });
    panel.textContent = "Hover a node to see its edges; click an edge or a node for the notes and lines that say it.";
    draw();
  }

  buttons.forEach(function (b) {
    b.addEventListener("click", function () {
      var id = b.getAttribute("data-view");
      select(data.views.filter(function (v) { return v.id === id; })[0]);
    });
  });
  minInput.addEventListener("change", function () {
    var value = parseInt(minInput.value, 10);
    state.min = isNaN(value) || value < 1 ? 1 : value;
    minInput.value = state.min;
    draw();
  });
  select(data.views[0]);
})();
