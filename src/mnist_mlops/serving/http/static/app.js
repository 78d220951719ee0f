// The draw-a-digit page: a canvas drawn with pointer events (mouse, pen, touch), sent as a PNG
// to POST /predict/image; an uploaded PNG/JPEG is sent as multipart/form-data. The answer
// holds the digit, its ten probabilities (probability_0 ... probability_9), the 28x28
// image the model saw and, where the server records predictions, its prediction_id: the
// "Right" and "it is a ..." buttons then send {prediction_id, label} to POST /feedback.
"use strict";

(function () {
  const SIDE = 280;              // the canvas' size in CSS pixels
  const INK = "#111827";
  const PAPER = "#ffffff";
  const PEN_WIDTH = 20;          // about MNIST's stroke: 2 of 28 pixels
  const LIVE_DELAY_MS = 250;

  const $ = (id) => document.getElementById(id);
  const pad = $("pad");
  const context = pad.getContext("2d");
  const result = $("result");
  const buttons = { predict: $("predict"), clear: $("clear") };
  let strokes = 0;               // strokes on the canvas since it was last cleared
  let drawing = null;            // the pointer drawing now: {id, x, y}
  let request = 0;               // the latest request; older answers are dropped
  let liveTimer = null;
  let uploaded = false;          // the canvas shows an uploaded picture
  let answered = null;           // the answer shown, if it can be labelled: {id, digit}

  function setUpCanvas() {
    const ratio = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
    pad.width = SIDE * ratio;
    pad.height = SIDE * ratio;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    clearCanvas();
  }

  function clearCanvas() {
    context.fillStyle = PAPER;
    context.fillRect(0, 0, SIDE, SIDE);
    context.strokeStyle = INK;
    context.fillStyle = INK;
    context.lineWidth = PEN_WIDTH;
    context.lineCap = "round";
    context.lineJoin = "round";
    strokes = 0;
    uploaded = false;
    $("pad-hint").hidden = false;
    buttons.predict.disabled = true;
  }

  function point(event) {
    const box = pad.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) / box.width) * SIDE,
      y: ((event.clientY - box.top) / box.height) * SIDE,
    };
  }

  function dot(p) {
    context.beginPath();
    context.arc(p.x, p.y, PEN_WIDTH / 2, 0, 2 * Math.PI);
    context.fill();
  }

  function line(from, to) {
    context.beginPath();
    context.moveTo(from.x, from.y);
    context.lineTo(to.x, to.y);
    context.stroke();
  }

  pad.addEventListener("pointerdown", (event) => {
    if (drawing || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    if (uploaded) clearCanvas();
    pad.setPointerCapture(event.pointerId);
    clearTimeout(liveTimer);
    const p = point(event);
    drawing = { id: event.pointerId, ...p };
    dot(p);
    $("pad-hint").hidden = true;
  });

  pad.addEventListener("pointermove", (event) => {
    if (!drawing || event.pointerId !== drawing.id) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const each of events.length ? events : [event]) {
      const p = point(each);
      line(drawing, p);
      drawing.x = p.x;
      drawing.y = p.y;
    }
  });

  function endStroke(event) {
    if (!drawing || event.pointerId !== drawing.id) return;
    drawing = null;
    strokes += 1;
    buttons.predict.disabled = false;
    $("source-note").textContent = `${strokes} stroke${strokes === 1 ? "" : "s"} drawn.`;
    if ($("live").checked) {
      clearTimeout(liveTimer);
      liveTimer = setTimeout(predictDrawing, LIVE_DELAY_MS);
    }
  }
  pad.addEventListener("pointerup", endStroke);
  pad.addEventListener("pointercancel", endStroke);

  function predictDrawing() {
    if (strokes === 0) return;
    const covered = strokes;
    pad.toBlob((png) => send(png, "image/png", covered, "your drawing"), "image/png");
  }

  function uploadFile(file) {
    const form = new FormData();
    form.append("file", file, file.name);
    send(form, null, 0, file.name);
    showUpload(file);
  }

  function showUpload(file) {
    const url = URL.createObjectURL(file);
    const picture = new Image();
    picture.onload = () => {
      clearCanvas();
      const scale = Math.min(SIDE / picture.width, SIDE / picture.height);
      const w = picture.width * scale;
      const h = picture.height * scale;
      context.drawImage(picture, (SIDE - w) / 2, (SIDE - h) / 2, w, h);
      uploaded = true;
      $("pad-hint").hidden = true;
      URL.revokeObjectURL(url);
    };
    picture.onerror = () => URL.revokeObjectURL(url);
    picture.src = url;
  }

  async function send(body, contentType, covered, source) {
    const mine = ++request;
    result.dataset.status = "pending";
    $("error").hidden = true;
    try {
      const headers = { "X-Prediction-Source": "page" };  // recorded as the page's
      if (contentType) headers["Content-Type"] = contentType;
      const answer = await fetch("/predict/image", {
        method: "POST",
        body,
        headers,
      });
      const payload = await answer.json().catch(() => ({}));
      if (mine !== request) return;
      if (!answer.ok) throw new Error(payload.message || `the server answered ${answer.status}`);
      show(payload.predictions[0], covered, source);
    } catch (error) {
      if (mine !== request) return;
      showError(error.message);
    }
  }

  function percent(p) {
    const value = p * 100;
    if (value > 99 && value < 100) return `${(Math.floor(value * 10) / 10).toFixed(1)}%`;
    return value >= 10 || value === 0 ? `${Math.round(value)}%` : `${value.toFixed(1)}%`;
  }

  function show(record, covered, source) {
    const probabilities = Array.from({ length: 10 }, (_, d) => record[`probability_${d}`]);
    const order = probabilities.map((p, d) => [p, d]).sort((a, b) => b[0] - a[0]);
    $("digit").textContent = String(record.digit);
    $("confidence").textContent = `${percent(probabilities[record.digit])} sure it is a ${record.digit}.`;
    const [second, digit2] = order[1];
    $("runner-up").textContent = `Next best: ${digit2} (${percent(second)}). Judged from ${source}.`;
    drawBars(probabilities, record.digit);
    $("seen").src = record.image;
    $("seen").hidden = false;
    $("seen-placeholder").hidden = true;
    result.dataset.strokes = String(covered);
    result.dataset.source = covered ? "drawing" : "upload";
    result.dataset.status = "done";
    showFeedback(record);
  }

  function showFeedback(record) {
    answered = record && record.prediction_id ? { id: record.prediction_id, digit: record.digit } : null;
    const box = $("feedback");
    box.hidden = !answered;
    box.dataset.status = "idle";
    delete box.dataset.label;
    $("feedback-status").textContent = "";
    setFeedbackButtons(false);
  }

  function setFeedbackButtons(disabled) {
    for (const button of $("feedback").querySelectorAll("button")) button.disabled = disabled;
  }

  async function sendFeedback(label) {
    const mine = answered;
    if (!mine) return;
    const box = $("feedback");
    setFeedbackButtons(true);
    box.dataset.status = "sending";
    try {
      const answer = await fetch("/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ prediction_id: mine.id, label }),
      });
      const payload = await answer.json().catch(() => ({}));
      if (mine !== answered) return;
      if (!answer.ok) throw new Error(payload.message || `the server answered ${answer.status}`);
      $("feedback-status").textContent = label === mine.digit
        ? `Thanks: stored that the model was right (${label}).`
        : `Thanks: stored that it is a ${label}, not a ${mine.digit}.`;
      box.dataset.label = String(label);
      box.dataset.status = "stored";
    } catch (error) {
      if (mine !== answered) return;
      $("feedback-status").textContent = `Could not store it: ${error.message}`;
      box.dataset.status = "error";
      setFeedbackButtons(false);
    }
  }

  function setUpFeedback() {
    for (let digit = 0; digit <= 9; digit += 1) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = String(digit);
      button.dataset.label = String(digit);
      button.setAttribute("aria-label", `it is a ${digit}`);
      button.addEventListener("click", () => sendFeedback(digit));
      $("labels").append(button);
    }
    $("right").addEventListener("click", () => answered && sendFeedback(answered.digit));
  }

  function showError(message) {
    $("error").textContent = `Could not predict: ${message}`;
    $("error").hidden = false;
    result.dataset.status = "error";
    showFeedback(null);
  }

  function svg(tag, attributes, text) {
    const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function drawBars(probabilities, best) {
    const chart = $("bars");
    chart.replaceChildren();
    const top = 18, bottom = 145, width = 22, step = 31, left = 10;
    chart.append(svg("line", { x1: 0, x2: 320, y1: bottom, y2: bottom, class: "axis" }));
    probabilities.forEach((p, digit) => {
      const height = Math.max(p * (bottom - top), p > 0 ? 1 : 0);
      const x = left + digit * step;
      const group = svg("g", { class: digit === best ? "bar best" : "bar" });
      const title = svg("title", {}, `${digit}: ${percent(p)}`);
      group.append(
        title,
        svg("rect", { x, y: bottom - height, width, height, rx: 3,
                      "data-digit": digit, "data-probability": p }),
        svg("text", { x: x + width / 2, y: bottom - height - 5, class: "value" },
            p >= 0.005 ? percent(p) : ""),  // no "0%" clutter
        svg("text", { x: x + width / 2, y: bottom + 18, class: "label" }, String(digit)),
      );
      chart.append(group);
    });
  }

  function reset() {
    clearTimeout(liveTimer);
    request += 1;                // an answer still on its way is dropped
    clearCanvas();
    $("digit").textContent = "?";
    $("confidence").textContent = "Draw a digit to see what the model thinks.";
    $("runner-up").textContent = "";
    $("source-note").textContent = "Write it large and centred, like on squared paper.";
    $("bars").replaceChildren();
    $("seen").hidden = true;
    $("seen").removeAttribute("src");
    $("seen-placeholder").hidden = false;
    $("error").hidden = true;
    result.dataset.status = "idle";
    result.dataset.strokes = "0";
    delete result.dataset.source;
    showFeedback(null);
  }

  async function loadModelInfo() {
    try {
      const info = await (await fetch("/model-info")).json();
      $("model-name").textContent = info.name || info.uri || "unknown model";
      if (info.version) {
        $("model-version").textContent = `version ${info.version}`;
        $("model-version").hidden = false;
      }
      if (info.alias) {
        $("model-alias").textContent = `@${info.alias}`;
        $("model-alias").hidden = false;
      }
      $("model").title = info.load_uri || "";
      $("model").dataset.loaded = "true";
    } catch (error) {
      $("model-name").textContent = "model information unavailable";
    }
  }

  buttons.predict.addEventListener("click", predictDrawing);
  buttons.clear.addEventListener("click", reset);
  $("upload").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) {
      reset();
      $("source-note").textContent = `Uploaded ${file.name}.`;
      uploadFile(file);
    }
    event.target.value = "";     // the same file can be chosen again
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") reset();
  });

  setUpFeedback();
  setUpCanvas();
  reset();
  loadModelInfo();
})();
