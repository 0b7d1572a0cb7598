// Custodian: the signature pad. Strokes drawn on the canvas are written to the hidden `drawing`
// field as "x,y x,y;x,y …" in a 600 × 200 box; without this script the typed and paper options remain.
"use strict";
(function () {
  const canvas = document.getElementById("drawing-canvas");
  const field = document.getElementById("drawing");
  const clear = document.getElementById("drawing-clear");
  const drawn = document.getElementById("signature_method");
  if (!canvas || !field || !clear || !drawn) return;
  for (const hidden of document.querySelectorAll("[data-needs-script]")) hidden.hidden = false;

  const pen = canvas.getContext("2d");
  pen.lineWidth = 3;
  pen.lineCap = "round";
  pen.lineJoin = "round";
  pen.strokeStyle = "#212b32";
  let strokes = field.value
    ? field.value.split(";").map(s => s.trim().split(/\s+/).map(p => p.split(",").map(Number)))
    : [];
  let current = null;

  function paint() {
    pen.clearRect(0, 0, canvas.width, canvas.height);
    for (const stroke of strokes) {
      pen.beginPath();
      stroke.forEach(([x, y], i) => (i === 0 ? pen.moveTo(x, y) : pen.lineTo(x, y)));
      if (stroke.length === 1) pen.lineTo(stroke[0][0] + 0.5, stroke[0][1]);
      pen.stroke();
    }
  }

  function save() {
    field.value = strokes.map(stroke => stroke.map(([x, y]) => x + "," + y).join(" ")).join(";");
  }

  // The canvas may be shown smaller than 600 × 200; points are kept in the canvas's own units.
  function point(event) {
    const box = canvas.getBoundingClientRect();
    const x = Math.round(((event.clientX - box.left) / box.width) * canvas.width);
    const y = Math.round(((event.clientY - box.top) / box.height) * canvas.height);
    return [Math.min(Math.max(x, 0), canvas.width), Math.min(Math.max(y, 0), canvas.height)];
  }

  canvas.addEventListener("pointerdown", event => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    current = [point(event)];
    strokes.push(current);
    drawn.checked = true;
    paint();
  });
  canvas.addEventListener("pointermove", event => {
    if (!current) return;
    const [x, y] = point(event);
    const [lastX, lastY] = current[current.length - 1];
    if (x !== lastX || y !== lastY) {
      current.push([x, y]);
      paint();
    }
  });
  for (const end of ["pointerup", "pointercancel"]) {
    canvas.addEventListener(end, () => {
      current = null;
      save();
    });
  }
  clear.addEventListener("click", () => {
    strokes = [];
    save();
    paint();
  });
  paint();
})();
