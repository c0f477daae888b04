// The generation form: adapt choices to the chosen model, list the @imageN names, preview
// and reorder attached images (the order defines @image1…@imageN). No eval, CSP-friendly.
(function () {
  "use strict";

  function caps() {
    var node = document.getElementById("model-capabilities");
    try { return node ? JSON.parse(node.textContent) : {}; } catch (e) { return {}; }
  }

  function setOptions(select, values, fallback) {
    if (!select || !values) return;
    var current = select.value;
    Array.prototype.forEach.call(select.options, function (opt) {
      var ok = values.indexOf(opt.value) !== -1;
      opt.disabled = !ok;
      opt.hidden = !ok;
    });
    if (values.indexOf(current) === -1) select.value = fallback || values[0];
  }

  function applyModel(form) {
    var model = form.querySelector("#id_model");
    if (!model) return;
    var c = caps()[model.value];
    if (!c) return;
    setOptions(form.querySelector("#id_resolution"), c.resolutions, c.default_resolution);
    setOptions(form.querySelector("#id_ratio"), c.ratios);
    var seconds = form.querySelector("#id_seconds");
    if (seconds) {
      seconds.min = c.min; seconds.max = c.max;
      var v = parseInt(seconds.value, 10);
      if (v > c.max) seconds.value = c.max;
      if (v < c.min) seconds.value = c.min;
    }
    var audio = form.querySelector("#field-generate_audio");
    if (audio) {
      var box = audio.querySelector("input");
      audio.hidden = c.audio !== "toggle";
      if (c.audio === "always" && box) box.checked = true;
    }
  }

  function countImages(form) {
    var files = form.querySelector("#id_images");
    var urls = form.querySelector("#id_image_urls");
    var kept = form.querySelectorAll("input[name=keep_refs]:checked");
    var n = (files && files.files ? files.files.length : 0) + kept.length;
    if (urls) n += urls.value.split("\n").filter(function (l) { return l.trim(); }).length;
    return n;
  }

  function showTags(form) {
    var tags = form.querySelector("[data-image-tags]");
    if (!tags) return;
    var n = countImages(form);
    if (!n) { tags.textContent = tags.getAttribute("data-none"); return; }
    var names = [];
    for (var i = 1; i <= n; i++) names.push("@image" + i);
    tags.textContent = tags.getAttribute("data-some") + " " + names.join(" ");
  }

  function renderThumbs(form) {
    var input = form.querySelector("#id_images");
    var list = form.querySelector("[data-thumbs-for=id_images]");
    if (!input || !list || !window.DataTransfer) return;
    list.textContent = "";
    Array.prototype.forEach.call(input.files, function (file, index) {
      var item = document.createElement("li");
      var img = document.createElement("img");
      img.alt = file.name;
      img.src = URL.createObjectURL(file);
      var tag = document.createElement("span");
      tag.textContent = "@image" + (index + 1 + form.querySelectorAll("input[name=keep_refs]:checked").length);
      item.appendChild(img);
      item.appendChild(tag);
      if (index > 0) {
        var up = document.createElement("button");
        up.type = "button"; up.className = "btn small ghost"; up.textContent = "←";
        up.setAttribute("aria-label", list.getAttribute("data-move-label") || "Move earlier");
        up.addEventListener("click", function () { move(input, index, index - 1); renderThumbs(form); showTags(form); });
        item.appendChild(up);
      }
      list.appendChild(item);
    });
  }

  function move(input, from, to) {
    var files = Array.prototype.slice.call(input.files);
    var moved = files.splice(from, 1)[0];
    files.splice(to, 0, moved);
    var dt = new DataTransfer();
    files.forEach(function (f) { dt.items.add(f); });
    input.files = dt.files;
  }

  function init(root) {
    var form = (root || document).querySelector ? (root.id === "generate-form" ? root : (root || document).querySelector("#generate-form")) : null;
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "1";
    applyModel(form);
    showTags(form);
    form.addEventListener("change", function (event) {
      if (event.target.id === "id_model") applyModel(form);
      if (event.target.id === "id_images") renderThumbs(form);
      showTags(form);
    });
    form.addEventListener("input", function (event) {
      if (event.target.id === "id_image_urls") showTags(form);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
