"""The Inspect map as a small custom component (a canvas, no library): in its one mode a click picks one bag, a drag
draws a lasso and takes every bag inside, a shift-drag draws a box; a double-click clears. The wheel zooms around
the pointer, an Alt-drag pans, "reset zoom" shows the whole map again. Points travel as Arrow
columns (28 bytes a point: 1.4 MB for 50,000 bags, 4.3 MB as JSON). Not a page: Inspect imports it.

Why a component: Streamlit's plotly charts report clicks only in pan/zoom modes (its wrapper switches clickmode to
"event" in box/lasso modes and forwards only plotly_selected), and Vega-Lite has no lasso."""

import streamlit as st

from weakneg import views

CSS = """
.lm-root { position: relative; font: 12px sans-serif; user-select: none; }
.lm-root canvas { display: block; width: 100%; cursor: crosshair; }
.lm-overlay { position: absolute; left: 0; top: 0; pointer-events: none; }
.lm-tip { position: absolute; display: none; pointer-events: none; background: #fff; border: 1px solid #cbd5e1;
          padding: 3px 6px; border-radius: 4px; white-space: nowrap; color: #111827; }
.lm-legend { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin-top: 4px; color: #374151; }
.lm-swatch { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 4px; }
.lm-bar { display: inline-block; width: 220px; height: 10px; }
.lm-reset { display: none; margin-left: auto; font: inherit; background: #fff; border: 1px solid #cbd5e1;
            border-radius: 4px; padding: 1px 8px; cursor: pointer; }
"""

JS = """
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let root = parentElement.querySelector('.lm-root');
  if (!root) {
    root = document.createElement('div');
    root.className = 'lm-root';
    root.innerHTML = '<canvas class="lm-points"></canvas><canvas class="lm-overlay"></canvas>' +
                     '<div class="lm-tip"></div><div class="lm-legend"></div>' +
                     '<button class="lm-reset" type="button">reset zoom</button>';
    parentElement.appendChild(root);
    attach(root, setStateValue);
    new ResizeObserver(() => draw(root)).observe(root);
  }
  const column = name => data.points.getChild(name).toArray();  // Arrow columns as typed arrays
  const before = root.__data;  // another map (another epoch or run): its zoom does not apply here
  if (!before || String(before.x_range) !== String(data.x_range) || String(before.y_range) !== String(data.y_range)) {
    root.__view = null;
  }
  root.__data = { x: column('x'), y: column('y'), bag: column('bag'), colour: column('colour'),
                  ring: column('ring'), cross: column('cross'), pick: column('pick'), score: column('score'),
                  prob: column('prob'), palette: data.palette, legend: data.legend, x_range: data.x_range,
                  y_range: data.y_range, height: data.height };
  draw(root);
}

const PAD = 8, ZOOM = 0.8;  // one wheel step in shows 80% of the ranges

function view(root) {  // [x0, x1, y0, y1]: the data ranges shown (the map's own, or the part zoomed into)
  const d = root.__data;
  return root.__view || [d.x_range[0], d.x_range[1], d.y_range[0], d.y_range[1]];
}

function draw(root) {
  const d = root.__data;
  if (!d) return;
  const canvas = root.querySelector('.lm-points'), overlay = root.querySelector('.lm-overlay');
  const width = Math.max(root.clientWidth, 100), height = d.height, ratio = window.devicePixelRatio || 1;
  for (const c of [canvas, overlay]) {
    c.width = width * ratio; c.height = height * ratio;
    c.style.width = width + 'px'; c.style.height = height + 'px';
  }
  const [x0, x1, y0, y1] = view(root), n = d.x.length;
  root.querySelector('.lm-reset').style.display = root.__view ? 'inline-block' : 'none';
  const px = new Float32Array(n), py = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    px[i] = PAD + (d.x[i] - x0) / (x1 - x0) * (width - 2 * PAD);
    py[i] = height - PAD - (d.y[i] - y0) / (y1 - y0) * (height - 2 * PAD);
  }
  root.__px = px; root.__py = py;
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  g.globalAlpha = 0.85;
  const inside = i => px[i] >= 0 && px[i] <= width && py[i] >= 0 && py[i] <= height;
  // one path per colour (tens of thousands of points: a fill per point would be slow); not chosen first, chosen
  // (ringed) on top, positive crosses last
  for (const ringed of [0, 1]) {
    const paths = new Map();
    for (let i = 0; i < n; i++) {
      if (d.ring[i] !== ringed || d.cross[i] || !inside(i)) continue;
      if (!paths.has(d.colour[i])) paths.set(d.colour[i], new Path2D());
      const path = paths.get(d.colour[i]);
      path.moveTo(px[i] + 3.6, py[i]); path.arc(px[i], py[i], 3.6, 0, 2 * Math.PI);
    }
    for (const [colour, path] of paths) { g.fillStyle = d.palette[colour]; g.fill(path); }
    if (ringed) {
      g.lineWidth = 1.3; g.strokeStyle = '#111827';
      for (const path of paths.values()) g.stroke(path);
    }
  }
  g.lineWidth = 2;
  for (let i = 0; i < n; i++) {
    if (!d.cross[i] || !inside(i)) continue;
    const x = px[i], y = py[i];
    g.strokeStyle = d.palette[d.colour[i]]; g.beginPath();
    g.moveTo(x - 4, y - 4); g.lineTo(x + 4, y + 4); g.moveTo(x - 4, y + 4); g.lineTo(x + 4, y - 4); g.stroke();
  }
  g.globalAlpha = 1;
  const picked = root.__picked || new Set();  // the bags the person picked: a blue halo
  g.strokeStyle = '#2563eb'; g.lineWidth = 2;
  for (let i = 0; i < n; i++) {
    if (!picked.has(d.bag[i]) || !inside(i)) continue;
    g.beginPath(); g.arc(px[i], py[i], 6, 0, 2 * Math.PI); g.stroke();
  }
  legend(root, d.legend);
}

function legend(root, spec) {
  const box = root.querySelector('.lm-legend');
  box.textContent = '';
  const title = document.createElement('b');
  title.textContent = spec.title;
  box.appendChild(title);
  if (spec.items) {
    for (const [name, colour] of spec.items) {
      const item = document.createElement('span');
      const swatch = document.createElement('span');
      swatch.className = 'lm-swatch'; swatch.style.background = colour;
      item.appendChild(swatch); item.appendChild(document.createTextNode(name));
      box.appendChild(item);
    }
  } else {
    const low = document.createElement('span'), high = document.createElement('span');
    low.textContent = spec.low; high.textContent = spec.high;
    const bar = document.createElement('span');
    bar.className = 'lm-bar'; bar.style.background = 'linear-gradient(to right, ' + spec.gradient.join(', ') + ')';
    box.appendChild(low); box.appendChild(bar); box.appendChild(high);
  }
}

function nearest(root, x, y, radius) {
  const px = root.__px, py = root.__py;
  let best = -1, bestDistance = radius * radius;
  for (let i = 0; i < px.length; i++) {
    const distance = (px[i] - x) ** 2 + (py[i] - y) ** 2;
    if (distance <= bestDistance) { best = i; bestDistance = distance; }
  }
  return best;
}

function inPolygon(x, y, polygon) {  // even-odd ray casting
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i], [xj, yj] = polygon[j];
    if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function attach(root, setStateValue) {
  const overlay = root.querySelector('.lm-overlay'), tip = root.querySelector('.lm-tip');
  const canvas = root.querySelector('.lm-points');
  let path = null, box = false, pan = null;
  const at = e => { const r = canvas.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
  const send = (bags, tool) => {
    root.__picked = new Set(bags); draw(root); setStateValue('selection', { bags, tool });
  };
  const outline = () => {
    const ratio = window.devicePixelRatio || 1, g = overlay.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, overlay.width, overlay.height);
    if (!path) return;
    g.strokeStyle = '#111827'; g.setLineDash([4, 3]); g.fillStyle = 'rgba(59,130,246,0.12)'; g.beginPath();
    if (box) {
      const [a, b] = [path[0], path[path.length - 1]];
      g.rect(a[0], a[1], b[0] - a[0], b[1] - a[1]);
    } else {
      path.forEach(([x, y], k) => k ? g.lineTo(x, y) : g.moveTo(x, y));
      g.closePath();
    }
    g.fill(); g.stroke();
  };
  const span = () => { const r = canvas.getBoundingClientRect(); return [r.width - 2 * PAD, r.height - 2 * PAD]; };
  canvas.addEventListener('wheel', e => {  // zoom around the pointer: the bag under it stays under it
    e.preventDefault();
    const [x, y] = at(e), [w, h] = span(), [x0, x1, y0, y1] = view(root), k = e.deltaY < 0 ? ZOOM : 1 / ZOOM;
    const fx = (x - PAD) / w, fy = (h + PAD - y) / h;  // the pointer as a fraction of the shown ranges
    const cx = x0 + fx * (x1 - x0), cy = y0 + fy * (y1 - y0);
    root.__view = [cx - fx * (x1 - x0) * k, cx + (1 - fx) * (x1 - x0) * k,
                   cy - fy * (y1 - y0) * k, cy + (1 - fy) * (y1 - y0) * k];
    tip.style.display = 'none'; draw(root);
  }, { passive: false });
  root.querySelector('.lm-reset').addEventListener('click', () => { root.__view = null; draw(root); });
  canvas.addEventListener('pointerdown', e => {
    canvas.setPointerCapture(e.pointerId); tip.style.display = 'none';
    if (e.altKey) { pan = { from: at(e), view: view(root) }; return; }
    path = [at(e)]; box = e.shiftKey;
  });
  canvas.addEventListener('pointermove', e => {
    const [x, y] = at(e);
    if (pan) {  // Alt-drag: the map follows the pointer
      const [w, h] = span(), [x0, x1, y0, y1] = pan.view;
      const dx = (x - pan.from[0]) / w * (x1 - x0), dy = (y - pan.from[1]) / h * (y1 - y0);
      root.__view = [x0 - dx, x1 - dx, y0 + dy, y1 + dy]; draw(root); return;
    }
    if (path) { path.push([x, y]); outline(); return; }
    const i = nearest(root, x, y, 6), d = root.__data;
    if (i < 0) { tip.style.display = 'none'; return; }
    const score = Number.isNaN(d.score[i]) ? '-' : Number(d.score[i]).toPrecision(4);
    tip.textContent = 'bag ' + d.bag[i] + (d.cross[i] ? ' · positive' : '') + ' · pick ' + (d.pick[i] || '-') +
                      ' · score ' + score + ' · p(positive) ' + Number(d.prob[i]).toFixed(3);
    tip.style.display = 'block'; tip.style.left = (x + 12) + 'px'; tip.style.top = (y + 12) + 'px';
  });
  canvas.addEventListener('pointerup', e => {
    if (pan) { pan = null; return; }
    if (!path) return;
    const drawn = path, [x0, y0] = drawn[0], [x1, y1] = at(e);
    path = null; outline();
    const d = root.__data, px = root.__px, py = root.__py, bags = [];
    const still = drawn.every(([x, y]) => Math.hypot(x - x0, y - y0) < 4);
    if (drawn.length < 3 || Math.hypot(x1 - x0, y1 - y0) < 4 && still) {
      const i = nearest(root, x1, y1, 8);  // a click: the bag under the pointer
      if (i >= 0) send([d.bag[i]], 'click');
      return;
    }
    if (box) {
      const [left, right] = [Math.min(x0, x1), Math.max(x0, x1)];
      const [top, bottom] = [Math.min(y0, y1), Math.max(y0, y1)];
      for (let i = 0; i < px.length; i++) {
        if (px[i] >= left && px[i] <= right && py[i] >= top && py[i] <= bottom) bags.push(d.bag[i]);
      }
      send(bags, 'box');
    } else {
      for (let i = 0; i < px.length; i++) if (inPolygon(px[i], py[i], drawn)) bags.push(d.bag[i]);
      send(bags, 'lasso');
    }
  });
  canvas.addEventListener('dblclick', () => send([], 'clear'));
  canvas.addEventListener('pointerleave', () => { tip.style.display = 'none'; });
}
"""

_MAP = st.components.v2.component("weakneg_map", css=CSS, js=JS)


def map_canvas(
    view: views.EpochView,
    colour_by: str,
    class_name: str | None,
    show_positives: bool,
    scale: str,
    key: str,
    height: int = 520,
    domain: tuple[list[float], list[float]] | None = None,
) -> list[int]:
    """Draw the map (on `domain`'s ranges when given); the bag ids the person picked (click), lassoed or boxed, []
    when none."""
    points = views.map_points(view, colour_by, class_name, show_positives, scale, height, domain)
    result = _MAP(data=points, key=key, default={"selection": None}, on_selection_change=lambda: None)
    selection = getattr(result, "selection", None) or {}
    return [int(b) for b in selection.get("bags") or []]
