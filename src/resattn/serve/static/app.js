// The page: send one image to POST /api/masks and show its predictions and the mask of every Attention Module.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { model: null, file: null, result: null, selected: 0 };

function setState(name, text) {
  document.body.dataset.state = name; // the browser test waits on this
  $("status").textContent = text || "";
}

function showError(text) {
  $("error").textContent = text;
  $("error").hidden = false;
  setState("error");
}

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

const fmt = (value, digits = 3) => Number(value).toFixed(digits);

async function loadModel() {
  const response = await fetch("/api/model");
  if (!response.ok) throw new Error(`GET /api/model: HTTP ${response.status}`);
  const model = await response.json();
  state.model = model;
  const spec = model.input;
  $("model-line").textContent = `${model.name} (${model.weights}) · input ${spec.in_chans === 1 ? "grey" : "RGB"} ` +
    `${spec.size}×${spec.size} · ${model.modules.length} Attention Modules · ${model.classes.length} classes`;
  $("hint").textContent = spec.hint ? `Works best on ${spec.hint}.` : "";
  if (/random/i.test(model.weights)) {
    $("model-warning").textContent = "These weights are untrained: the predictions and masks mean nothing yet.";
    $("model-warning").hidden = false;
  }
  const [lo, hi] = model.mask_scale;
  $("ticks").replaceChildren(...[0, 1, 2, 3, 4].map((i) => el("span", { text: String(lo + (i * (hi - lo)) / 4) })));
  for (const url of model.examples) {
    const name = url.split("/").pop().replace(/\.png$/, "").replace(/_/g, " ");
    const button = el("button", { type: "button", title: `try the bundled example: ${name}` },
      [el("img", { src: url, alt: name, class: "pixels" }), el("span", { text: name })]);
    button.addEventListener("click", () => useExample(url, name));
    $("examples").append(button);
  }
  setState("ready");
}

async function useExample(url, name) {
  const response = await fetch(url);
  const blob = await response.blob();
  send(new File([blob], `${name}.png`, { type: blob.type || "image/png" }));
}

async function send(file) {
  state.file = file;
  $("error").hidden = true;
  const limit = state.model ? state.model.limits.max_body_bytes : Infinity;
  if (file.size > limit) { // the server would refuse it too; saying so here saves the upload
    showError(`Upload refused: ${file.name} is ${(file.size / 1048576).toFixed(1)} MiB, over the limit of ` +
      `${(limit / 1048576).toFixed(1)} MiB`);
    return;
  }
  setState("busy", `Looking at ${file.name}…`);
  const body = new FormData();
  body.append("file", file);
  let response;
  try {
    response = await fetch(`/api/masks?topk=5&reduction=${$("reduction").value}`, { method: "POST", body });
  } catch (err) {
    showError(`The server did not answer: ${err.message}`);
    return;
  }
  const payload = await response.json().catch(() => ({ detail: `HTTP ${response.status} without a JSON body` }));
  if (!response.ok) {
    showError(`Upload refused (HTTP ${response.status}): ${payload.detail}`);
    return;
  }
  state.result = payload;
  state.selected = Math.min(state.selected, payload.modules.length - 1);
  render();
  setState("done", `${file.name}: done`);
}

function stack(inputUrl, maskUrl, alt) {
  return el("div", { class: "stack" }, [
    el("img", { src: inputUrl, alt: "input", class: "input" }),
    el("img", { src: maskUrl, alt, class: "mask", style: `opacity: ${$("opacity").value / 100}` }),
  ]);
}

function statsTable(module) {
  const s = module.stats;
  const [lo, hi] = state.model.outside_band;
  const rows = [
    ["mean of M", fmt(s.mean)], ["std of M", fmt(s.std)], [`outside [${lo}, ${hi}]`, `${fmt(100 * s.frac_outside, 1)}%`],
    ["spatial contrast (median)", fmt(s.contrast_median, 4)], ["drawn map range", `${fmt(module.drawn_min)} to ${fmt(module.drawn_max)}`],
  ];
  return el("table", { class: "stats" }, rows.map(([k, v]) => el("tr", {}, [el("td", { text: k }), el("td", { text: v })])));
}

function title(module) {
  const children = [`${module.stage} · ${module.name} `];
  if (module.flat) children.push(el("span", { class: "flat", title: "spatial contrast below the flat threshold", text: "flat" }));
  return el("h3", {}, children);
}

function render() {
  const r = state.result;
  $("result").hidden = false;
  $("input-image").src = r.input_png;
  $("input-size").textContent = `${state.model.input.size}×${state.model.input.size}`;
  $("topk").replaceChildren(...r.predictions.map((p) => el("li", {}, [
    el("span", { class: "label", text: p.label }), ` ${fmt(100 * p.prob, 1)}%`,
    el("span", { class: "bar", style: `width: ${Math.max(1, Math.round(160 * p.prob))}px` }),
  ])));

  const flat = r.modules.filter((m) => m.flat);
  $("flat-banner").hidden = flat.length === 0;
  $("flat-banner").textContent = flat.length === 0 ? "" :
    `Flat masks in ${flat.length} of ${r.modules.length} modules (${flat.map((m) => m.stage).join(", ")}): their ` +
    `spatial contrast is below ${r.flat_threshold}, so they no longer say where to look (they still scale channels).`;

  $("module-select").replaceChildren(...r.modules.map((m, i) =>
    el("option", { value: String(i), text: `${m.stage} · ${m.name}${m.flat ? " (flat)" : ""}` })));
  $("module-select").value = String(state.selected);

  $("modules").replaceChildren(...r.modules.map((m, i) => {
    const card = el("div", { class: "card", "data-index": String(i) },
      [stack(r.input_png, m.mask_png, `mask of ${m.name}`), title(m), statsTable(m)]);
    card.addEventListener("click", () => select(i));
    return card;
  }));
  select(state.selected);
}

function select(index) {
  const r = state.result;
  state.selected = index;
  $("module-select").value = String(index);
  const m = r.modules[index];
  $("focus").replaceChildren(stack(r.input_png, m.mask_png, `mask of ${m.name}, large`),
    el("div", {}, [title(m), el("p", { class: "hint", text: `M is ${m.shape.join("×")} (channels × height × ` +
      `width), ${r.reduction} over channels, upsampled to the input` }), statsTable(m)]));
  markRange(m.drawn_min, m.drawn_max);
  for (const card of document.querySelectorAll(".card")) card.classList.toggle("selected", card.dataset.index === String(index));
}

function markRange(low, high) {
  const [lo, hi] = state.model.mask_scale;
  const at = (v) => Math.min(100, Math.max(0, (100 * (v - lo)) / (hi - lo)));
  const mark = $("range-mark");
  mark.style.left = `calc(${at(low)}% - 2px)`;
  mark.style.width = `${at(high) - at(low)}%`;
  mark.hidden = false;
}

function setOpacity() {
  const value = $("opacity").value / 100;
  $("opacity-value").textContent = value.toFixed(2);
  for (const img of document.querySelectorAll("img.mask")) img.style.opacity = value;
}

function wire() {
  $("file").addEventListener("change", () => {
    const file = $("file").files[0];
    $("file").value = ""; // so that choosing the same file again sends it again
    if (file) send(file);
  });
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files[0]) send(e.dataTransfer.files[0]);
  });
  $("module-select").addEventListener("change", () => select(Number($("module-select").value)));
  $("opacity").addEventListener("input", setOpacity);
  $("reduction").addEventListener("change", () => { if (state.file) send(state.file); });
}

wire();
loadModel().catch((err) => showError(`Cannot load the model description: ${err.message}`));
