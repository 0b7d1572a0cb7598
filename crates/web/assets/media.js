// Custodian: capture from this device's camera or microphone, or pick a file, and send it straight
// to the vault by resumable upload (tus 1.0) with progress; without this script the upload form is
// posted whole. Nothing is kept in the browser: no storage, and the recording is dropped from
// memory once saved or discarded.
"use strict";
(function () {
  const form = document.getElementById("recording-form");
  if (!form) return;
  for (const shown of document.querySelectorAll("[data-needs-script]")) shown.hidden = false;
  for (const hidden of document.querySelectorAll("[data-without-script]")) hidden.hidden = true;

  const CHUNK = 1024 * 1024;
  // The sign-in's anti-forgery token: every request that changes something carries it.
  const token = form.querySelector("input[name=csrf]").value;
  const RETRIES = 5;
  const capture = form.dataset.mode === "capture";
  const $ = id => document.getElementById(id);
  const status = $("status");
  let recorded = null; // { blob, kind, madeAt, filename }
  let stream = null;
  let recorder = null;

  function problem(text) {
    $("problems-text").textContent = text;
    $("problems").hidden = false;
    $("problems").focus();
  }
  function clearProblem() { $("problems").hidden = true; }
  function kind() { return form.querySelector("input[name=kind]:checked").value; }
  function show(id, visible) { $(id).hidden = !visible; }

  function base64(text) {
    let binary = "";
    for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
    return btoa(binary);
  }

  async function detail(response) {
    try {
      const body = await response.json();
      return body.detail || body.title || response.statusText;
    } catch (_) {
      return "the server answered " + response.status;
    }
  }

  function describe(item) {
    return {
      kind: item.kind,
      service: form.dataset.service,
      session_id: form.dataset.session,
      subjects: JSON.parse(form.dataset.subjects),
      purposes: Array.from(form.querySelectorAll("input[name=purposes]:checked"), box => box.value),
      device: $("device").value,
      made_at: item.madeAt,
      location: $("location").value,
    };
  }

  function progress(sent, total) {
    const percent = total ? Math.floor((sent / total) * 100) : 100;
    $("progress").value = percent;
    status.textContent = "Saved " + percent + "%";
  }

  const pause = ms => new Promise(resolve => setTimeout(resolve, ms));

  // Sends the next piece from `offset`; after a dropped connection or a server error, asks the
  // server how much arrived and carries on from there.
  async function sendFrom(location, blob, offset) {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await fetch(location, {
          method: "PATCH",
          headers: {
            "X-CSRF-Token": token,
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": String(offset),
            "Content-Type": "application/offset+octet-stream",
          },
          body: blob.slice(offset, offset + CHUNK),
        });
        if (response.ok) return response;
        if (response.status < 500 && response.status !== 409) throw new Error(await detail(response));
      } catch (error) {
        if (!(error instanceof TypeError)) throw error;
      }
      if (attempt >= RETRIES) throw new Error("the connection keeps failing; try again when it is steadier");
      status.textContent = "The connection dropped; carrying on…";
      await pause(500 * (attempt + 1));
      const head = await fetch(location, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0" } });
      if (!head.ok) throw new Error("the upload was lost; save it again");
      offset = Number(head.headers.get("Upload-Offset"));
    }
  }

  async function upload(item) {
    const created = await fetch("/api/v1/uploads", {
      method: "POST",
      headers: {
        "X-CSRF-Token": token,
        "Tus-Resumable": "1.0.0",
        "Upload-Length": String(item.blob.size),
        "Upload-Metadata": "recording " + base64(JSON.stringify(describe(item))) + ", filename " + base64(item.filename),
      },
    });
    if (!created.ok) throw new Error(await detail(created));
    const location = created.headers.get("Location");
    let offset = 0;
    let recording = null;
    while (offset < item.blob.size) {
      const response = await sendFrom(location, item.blob, offset);
      offset = Number(response.headers.get("Upload-Offset"));
      recording = response.headers.get("Custodian-Recording-Id") || recording;
      progress(offset, item.blob.size);
    }
    return recording;
  }

  function stopDevices() {
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    if ($("preview")) $("preview").srcObject = null;
  }

  function finished(blob, filename) {
    recorded = { blob, kind: kind(), madeAt: recorded.madeAt, filename };
    stopDevices();
    for (const id of ["start-recording", "stop-recording", "take-photograph"]) show(id, false);
    show("after", true);
    status.textContent = "Recorded. Check with them, then save or discard it.";
    $("save").focus();
  }

  async function turnOn() {
    clearProblem();
    const wanted = kind();
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: wanted !== "audio",
        audio: wanted !== "photograph",
      });
    } catch (error) {
      problem("The camera or microphone could not be used: " + error.message);
      return;
    }
    $("preview").srcObject = stream;
    await $("preview").play();
    show("start-camera", false);
    show(wanted === "photograph" ? "take-photograph" : "start-recording", true);
    status.textContent = wanted === "photograph" ? "Ready to take the photograph." : "Ready. Say the opening statement once you start.";
  }

  function startRecording() {
    const chunks = [];
    recorded = { madeAt: new Date().toISOString() };
    try {
      recorder = new MediaRecorder(stream);
    } catch (error) {
      problem("This browser cannot record here: " + error.message);
      return;
    }
    recorder.ondataavailable = event => { if (event.data.size) chunks.push(event.data); };
    recorder.onstop = () => {
      const type = recorder.mimeType || "video/webm";
      finished(new Blob(chunks, { type }), kind() === "audio" ? "capture.weba" : "capture.webm");
    };
    recorder.start(1000);
    show("start-recording", false);
    show("stop-recording", true);
    $("stop-recording").focus();
    status.textContent = "Recording.";
  }

  function takePhotograph() {
    const preview = $("preview");
    const canvas = document.createElement("canvas");
    canvas.width = preview.videoWidth;
    canvas.height = preview.videoHeight;
    canvas.getContext("2d").drawImage(preview, 0, 0);
    recorded = { madeAt: new Date().toISOString() };
    canvas.toBlob(blob => finished(blob, "capture.jpg"), "image/jpeg", 0.92);
  }

  // The moment a date and time on a UK clock stand for, with GMT or BST as London had then.
  function ukClock(date, time) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date.trim()) || !/^\d{1,2}:\d{2}$/.test(time.trim())) return null;
    const guess = new Date(date.trim() + "T" + time.trim().padStart(5, "0") + ":00Z");
    if (Number.isNaN(guess.getTime())) return null;
    const zone = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/London", timeZoneName: "shortOffset" })
      .formatToParts(guess).find(part => part.type === "timeZoneName").value;
    const hours = Number(zone.replace("GMT", "") || 0);
    return new Date(guess.getTime() - hours * 3600000).toISOString();
  }

  function chosenFile() {
    const file = $("file").files[0];
    if (!file) return null;
    return { blob: file, kind: kind(), madeAt: ukClock($("date").value, $("time").value), filename: file.name };
  }

  async function save() {
    clearProblem();
    const item = capture ? recorded : chosenFile();
    if (!item || !item.blob) {
      problem(capture ? "Record something first." : "Choose the file to upload.");
      return;
    }
    if (!item.madeAt) {
      problem("Enter when it was made, such as 2026-11-20 and 14:30.");
      return;
    }
    $("save").disabled = true;
    show("uploading", true);
    progress(0, item.blob.size);
    try {
      const recording = await upload(item);
      const tell = (what, body) => fetch("/api/v1/recordings/" + recording + "/" + what, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
        body: JSON.stringify(body),
      });
      if (capture && $("happy").checked) await tell("end-confirmation", { happy: true });
      // Made here, the recording was only ever in this page's memory, now let go (R8).
      if (capture) await tell("device-copy-deleted", { captured_in_browser: true });
      recorded = null;
      window.location.assign("/recordings/" + recording);
    } catch (error) {
      problem("It was not saved: " + error.message);
      $("save").disabled = false;
      show("uploading", false);
    }
  }

  function discard() {
    recorded = null;
    show("after", false);
    show("start-camera", true);
    status.textContent = "Discarded. Nothing was saved.";
  }

  if (capture) {
    $("start-camera").addEventListener("click", turnOn);
    $("start-recording").addEventListener("click", startRecording);
    $("stop-recording").addEventListener("click", () => recorder && recorder.stop());
    $("take-photograph").addEventListener("click", takePhotograph);
    $("discard").addEventListener("click", discard);
    // The opening statement says the time it is when recording starts.
    const clock = new Intl.DateTimeFormat("en-GB", {
      timeZone: "Europe/London", day: "numeric", month: "long", year: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short",
    });
    setInterval(() => { $("clock").textContent = clock.format(new Date()); }, 15000);
  }
  if (capture) {
    $("save").addEventListener("click", save);
  } else {
    // With this script the form is sent in resumable pieces with progress, not posted whole.
    form.addEventListener("submit", event => { event.preventDefault(); save(); });
  }
  window.addEventListener("pagehide", () => { stopDevices(); recorded = null; });
})();
