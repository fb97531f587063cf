/* The SCORM player of a learner's step page (learning/templates/learning/_scorm_player.html).

   The package plays in a sandboxed frame of its own origin; its runtime (scorm-runtime.js) posts
   Initialize, Commit and Finish here. Only messages from that frame (or frames inside it) and of the
   expected shape are passed on, one at a time and in order, to knet with the page's CSRF token; the
   answer (where the learner now stands) is shown in the status line, which screen readers announce. */
(function () {
  "use strict";

  var frame = document.getElementById("scorm-frame");
  var status = document.getElementById("scorm-status");
  if (!frame || !status) { return; }
  var EVENTS = ["initialize", "commit", "finish"];
  var MAX_VALUES = 20;
  var queue = Promise.resolve();

  function fromFrame(source) {
    var candidate = source;
    for (var depth = 0; candidate && depth < 20; depth++) {
      if (candidate === frame.contentWindow) { return true; }
      if (candidate === candidate.parent) { return false; }
      candidate = candidate.parent;
    }
    return false;
  }

  function wellFormed(message) {
    if (!message || typeof message !== "object" || message.knet !== "scorm") { return false; }
    if (EVENTS.indexOf(message.event) < 0) { return false; }
    var values = message.values;
    if (!values || typeof values !== "object" || Array.isArray(values)) { return false; }
    var names = Object.keys(values);
    return names.length <= MAX_VALUES && names.every(function (name) {
      return typeof values[name] === "string" && name.length <= 100;
    });
  }

  function say(text) {
    status.textContent = text;
  }

  function show(ok, answer) {
    if (!ok) {
      say(status.dataset.failed + (answer && answer.detail ? " " + answer.detail : ""));
      return;
    }
    var sentence;
    if (answer.success_status === "passed" || answer.completion_status === "passed") {
      sentence = status.dataset.passed;
    } else if (answer.done) {
      sentence = status.dataset.completed;
    } else {
      sentence = status.dataset.started;
    }
    if (answer.percent !== null && answer.percent !== undefined) {
      sentence += " " + status.dataset.score.replace("{percent}", String(answer.percent));
    }
    status.dataset.event = answer.event;
    status.dataset.done = answer.done ? "true" : "false";
    say(sentence);
  }

  function post(body) {
    return fetch(frame.dataset.report, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": frame.dataset.csrf }
    }).then(function (response) {
      return response.json().then(function (answer) { show(response.ok, answer); }, function () { show(false, null); });
    }, function () { show(false, null); });
  }

  window.addEventListener("message", function (event) {
    if (!fromFrame(event.source) || !wellFormed(event.data)) { return; }
    var body = JSON.stringify({ event: event.data.event, values: event.data.values });
    queue = queue.then(function () { return post(body); });
  });
}());
