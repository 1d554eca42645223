// The console's own script: keyboard shortcuts for scoring, the subtest timer (display
// only: the server keeps no time) and reading a roster file into its form. Nothing else;
// every page works without it.
"use strict";
document.addEventListener("keydown", function (e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  var t = e.target;
  if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) return;
  if (!/^[0-9]$/.test(e.key)) return;
  var button = document.querySelector('#score button[data-score="' + e.key + '"]');
  if (button) {
    e.preventDefault();
    button.click();
  }
});
document.addEventListener("DOMContentLoaded", function () {
  var out = document.getElementById("timer");
  if (!out) return;
  var left = parseInt(out.getAttribute("data-seconds"), 10);
  // The countdown runs from the first time this subtest's page was opened in this tab, so
  // reloading the page after each score does not restart it.
  var key = "qabilet-timer:" + location.pathname;
  var started = parseInt(sessionStorage.getItem(key) || "0", 10);
  if (!started) { started = Date.now(); sessionStorage.setItem(key, String(started)); }
  var end = started + left * 1000;
  var tick = function () {
    var s = Math.max(0, Math.round((end - Date.now()) / 1000));
    out.textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
    if (s === 0) { out.classList.add("expired"); return; }
    setTimeout(tick, 250);
  };
  tick();
});
// The roster form: a chosen CSV file is read into the form's text field (sent as a form).
document.addEventListener("DOMContentLoaded", function () {
  var file = document.getElementById("roster-file");
  var text = document.getElementById("roster-csv");
  if (!file || !text) return;
  file.addEventListener("change", function () {
    if (!file.files.length) return;
    var reader = new FileReader();
    reader.onload = function () { text.value = reader.result; };
    reader.readAsText(file.files[0]);
  });
});
