/* The SCORM runtime of knet, put first into every HTML document of a SCORM package
   (learning/scorm_serving.py).

   The package runs in a sandbox with an origin of its own, so it cannot reach an API object of the
   player page: this script gives each of its documents window.API (SCORM 1.2) and window.API_1484_11
   (SCORM 2004). It keeps the CMI data model in memory, synchronously as SCORM requires, starting from
   the learner's saved state (the data-knet-scorm attribute of this script's tag), and sends
   Initialize, Commit and Finish/Terminate, with the values knet keeps that changed, to the player page
   (window.top) by postMessage. The player checks them and posts them to knet, which checks them
   again: nothing here is trusted. */
(function () {
  "use strict";

  var script = document.currentScript;
  var seed;
  try {
    seed = JSON.parse(script.getAttribute("data-knet-scorm"));
  } catch (error) {
    return;
  }
  var V12 = seed.version === "1.2";

  var DECIMAL = /^-?\d{1,10}(\.\d{1,7})?$/;
  var TIMESPAN = /^\d{2,4}:[0-5]\d:[0-5]\d(\.\d{1,2})?$/;
  var DURATION = /^P(?:\d+Y)?(?:\d+M)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d{1,2})?S)?)?$/;

  /* Checks of values: each returns the error code of the version, or "0". */
  var BAD = V12 ? "405" : "406";
  var OUT_OF_RANGE = V12 ? "405" : "407";
  function vocabulary(words) {
    return function (value) { return words.indexOf(value) >= 0 ? "0" : BAD; };
  }
  function number(low, high) {
    return function (value) {
      if (V12 && value === "") { return "0"; }
      if (!DECIMAL.test(value)) { return BAD; }
      var n = parseFloat(value);
      if ((low !== null && n < low) || (high !== null && n > high)) { return OUT_OF_RANGE; }
      return "0";
    };
  }
  function text(limit) {
    return function (value) { return value.length <= limit && value.indexOf("\u0000") < 0 ? "0" : BAD; };
  }
  function timespan(value) { return TIMESPAN.test(value) ? "0" : BAD; }
  function duration(value) {
    return DURATION.test(value) && value !== "P" && value.slice(-1) !== "T" ? "0" : BAD;
  }
  function any(value) { return value.length <= 64000 ? "0" : BAD; }

  function pad(n, width) {
    var s = String(Math.floor(n));
    while (s.length < width) { s = "0" + s; }
    return s;
  }
  function totalTime(seconds) {
    seconds = Math.max(0, Number(seconds) || 0);
    var hours = Math.floor(seconds / 3600), minutes = Math.floor((seconds % 3600) / 60);
    var rest = Math.round((seconds % 60) * 100) / 100;
    if (V12) {
      return pad(Math.min(hours, 9999), 4) + ":" + pad(minutes, 2) + ":" + pad(rest, 2) +
        (rest % 1 ? "." + pad(Math.round((rest % 1) * 100), 2) : "");
    }
    return "PT" + hours + "H" + minutes + "M" + rest + "S";
  }

  /* The data model: element -> [access ("r", "w" or "rw"), check, tracked by knet]. */
  var MODEL, CHILDREN;
  if (V12) {
    MODEL = {
      "cmi.core.student_id": ["r"], "cmi.core.student_name": ["r"], "cmi.core.credit": ["r"],
      "cmi.core.entry": ["r"], "cmi.core.total_time": ["r"], "cmi.core.lesson_mode": ["r"],
      "cmi.core.lesson_location": ["rw", text(255), true],
      "cmi.core.lesson_status": ["rw", vocabulary(["passed", "completed", "failed", "incomplete", "browsed"]), true],
      "cmi.core.score.raw": ["rw", number(0, 100), true], "cmi.core.score.min": ["rw", number(0, 100), true],
      "cmi.core.score.max": ["rw", number(0, 100), true],
      "cmi.core.exit": ["w", vocabulary(["", "time-out", "suspend", "logout"]), true],
      "cmi.core.session_time": ["w", timespan, true],
      "cmi.suspend_data": ["rw", text(4096), true], "cmi.launch_data": ["r"],
      "cmi.comments": ["rw", text(4096)], "cmi.comments_from_lms": ["r"],
      "cmi.student_data.mastery_score": ["r"], "cmi.student_data.max_time_allowed": ["r"],
      "cmi.student_data.time_limit_action": ["r"],
      "cmi.student_preference.audio": ["rw", number(-1, 100)], "cmi.student_preference.language": ["rw", text(255)],
      "cmi.student_preference.speed": ["rw", number(-100, 100)], "cmi.student_preference.text": ["rw", number(-1, 1)]
    };
    CHILDREN = {
      "cmi.core": "student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time,lesson_mode,exit,session_time",
      "cmi.core.score": "raw,min,max", "cmi.student_data": "mastery_score,max_time_allowed,time_limit_action",
      "cmi.student_preference": "audio,language,speed,text",
      "cmi.objectives": "id,score,status", "cmi.interactions": "id,objectives,time,type,correct_responses,weighting,student_response,result,latency"
    };
  } else {
    MODEL = {
      "cmi._version": ["r"], "cmi.learner_id": ["r"], "cmi.learner_name": ["r"], "cmi.credit": ["r"],
      "cmi.entry": ["r"], "cmi.mode": ["r"], "cmi.total_time": ["r"], "cmi.launch_data": ["r"],
      "cmi.completion_threshold": ["r"], "cmi.scaled_passing_score": ["r"], "cmi.max_time_allowed": ["r"],
      "cmi.time_limit_action": ["r"],
      "cmi.completion_status": ["rw", vocabulary(["completed", "incomplete", "not attempted", "unknown"]), true],
      "cmi.success_status": ["rw", vocabulary(["passed", "failed", "unknown"]), true],
      "cmi.score.scaled": ["rw", number(-1, 1), true], "cmi.score.raw": ["rw", number(null, null), true],
      "cmi.score.min": ["rw", number(null, null), true], "cmi.score.max": ["rw", number(null, null), true],
      "cmi.location": ["rw", text(1000), true], "cmi.suspend_data": ["rw", text(64000), true],
      "cmi.exit": ["w", vocabulary(["", "time-out", "suspend", "logout", "normal"]), true],
      "cmi.session_time": ["w", duration, true], "cmi.progress_measure": ["rw", number(0, 1)],
      "cmi.learner_preference.audio_level": ["rw", number(0, null)],
      "cmi.learner_preference.language": ["rw", text(250)],
      "cmi.learner_preference.delivery_speed": ["rw", number(0, null)],
      "cmi.learner_preference.audio_captioning": ["rw", vocabulary(["-1", "0", "1"])],
      "adl.nav.request": ["rw", text(4000)]
    };
    CHILDREN = {
      "cmi.score": "scaled,raw,min,max", "cmi.learner_preference": "audio_level,language,delivery_speed,audio_captioning",
      "cmi.objectives": "id,score,success_status,completion_status,progress_measure,description",
      "cmi.interactions": "id,type,objectives,timestamp,correct_responses,weighting,learner_response,result,latency,description",
      "cmi.comments_from_learner": "comment,location,timestamp", "cmi.comments_from_lms": "comment,location,timestamp"
    };
  }
  /* Lists whose members a SCO adds (cmi.interactions.0.id …): kept, never sent to knet. */
  var ARRAYS = V12 ? ["cmi.objectives", "cmi.interactions"]
    : ["cmi.objectives", "cmi.interactions", "cmi.comments_from_learner", "cmi.comments_from_lms"];
  var READ_ONLY_ARRAYS = V12 ? [] : ["cmi.comments_from_lms"];

  var data = {};
  if (V12) {
    data["cmi.core.student_id"] = seed.learner_id;
    data["cmi.core.student_name"] = seed.learner_name;
    data["cmi.core.credit"] = "credit";
    data["cmi.core.lesson_mode"] = "normal";
    data["cmi.core.entry"] = seed.entry;
    data["cmi.core.total_time"] = totalTime(seed.total_seconds);
    data["cmi.core.lesson_status"] = seed.completion_status;
    data["cmi.core.lesson_location"] = seed.location;
    data["cmi.core.score.raw"] = seed.score_raw;
    data["cmi.core.score.min"] = seed.score_min;
    data["cmi.core.score.max"] = seed.score_max;
    data["cmi.suspend_data"] = seed.suspend_data;
  } else {
    data["cmi._version"] = "1.0";
    data["cmi.learner_id"] = seed.learner_id;
    data["cmi.learner_name"] = seed.learner_name;
    data["cmi.credit"] = "credit";
    data["cmi.mode"] = "normal";
    data["cmi.entry"] = seed.entry;
    data["cmi.total_time"] = totalTime(seed.total_seconds);
    data["cmi.time_limit_action"] = "continue,no message";
    data["cmi.completion_status"] = seed.completion_status === "not attempted" ? "unknown" : seed.completion_status;
    data["cmi.success_status"] = seed.success_status;
    data["cmi.location"] = seed.location;
    data["cmi.suspend_data"] = seed.suspend_data;
    data["cmi.score.scaled"] = seed.score_scaled;
    data["cmi.score.raw"] = seed.score_raw;
    data["cmi.score.min"] = seed.score_min;
    data["cmi.score.max"] = seed.score_max;
    data["adl.nav.request"] = "_none_";
  }

  var NOT_STARTED = 0, RUNNING = 1, ENDED = 2;
  var stage = NOT_STARTED;
  var lastError = "0";
  var changed = {};

  var MESSAGES = {
    "0": "No error", "101": "General exception", "102": "General initialization failure",
    "103": "Already initialized", "104": "Content instance terminated", "111": "General termination failure",
    "112": "Termination before initialization", "113": "Termination after termination",
    "122": "Retrieve data before initialization", "123": "Retrieve data after termination",
    "132": "Store data before initialization", "133": "Store data after termination",
    "142": "Commit before initialization", "143": "Commit after termination",
    "201": V12 ? "Invalid argument error" : "General argument error", "202": "Element cannot have children",
    "203": "Element not an array: cannot have count", "301": V12 ? "Not initialized" : "General get failure",
    "351": "General set failure", "391": "General commit failure",
    "401": V12 ? "Not implemented error" : "Undefined data model element",
    "402": V12 ? "Invalid set value, element is a keyword" : "Unimplemented data model element",
    "403": V12 ? "Element is read only" : "Data model element value not initialized",
    "404": V12 ? "Element is write only" : "Data model element is read only",
    "405": V12 ? "Incorrect data type" : "Data model element is write only",
    "406": "Data model element type mismatch", "407": "Data model element value out of range",
    "408": "Data model dependency not established"
  };

  function send(event) {
    var values = {};
    Object.keys(changed).forEach(function (name) { values[name] = data[name]; });
    changed = {};
    try {
      window.top.postMessage({ knet: "scorm", event: event, values: values }, seed.origin);
    } catch (error) {
      return false;
    }
    return true;
  }

  function fail(code) { lastError = code; return "false"; }
  function ok(value) { lastError = "0"; return value; }

  /* cmi.interactions.3.id -> ["cmi.interactions", 3, "id"], or null. */
  function arrayPart(name) {
    for (var i = 0; i < ARRAYS.length; i++) {
      var prefix = ARRAYS[i] + ".";
      if (name.indexOf(prefix) === 0) {
        var rest = name.slice(prefix.length), dot = rest.indexOf(".");
        var index = dot < 0 ? rest : rest.slice(0, dot);
        if (/^\d{1,4}$/.test(index) && dot > 0) { return [ARRAYS[i], parseInt(index, 10), rest.slice(dot + 1)]; }
        return [ARRAYS[i], null, rest];
      }
    }
    return null;
  }
  function count(array) { return data[array + "._count"] || 0; }

  function getValue(name) {
    name = String(name);
    if (stage === NOT_STARTED) { return fail(V12 ? "301" : "122"); }
    if (stage === ENDED) { return fail(V12 ? "301" : "123"); }
    if (name === "") { return fail(V12 ? "201" : "301"); }
    var last = name.slice(name.lastIndexOf(".") + 1), owner = name.slice(0, name.lastIndexOf("."));
    if (last === "_children") {
      if (CHILDREN[owner]) { return ok(CHILDREN[owner]); }
      return fail(V12 ? (MODEL[owner] ? "202" : "201") : "301");
    }
    if (last === "_count") {
      if (ARRAYS.indexOf(owner) >= 0) { return ok(String(count(owner))); }
      return fail(V12 ? (MODEL[owner] ? "203" : "201") : "301");
    }
    if (name === "cmi._version" && V12) { return ok("3.4"); }
    var element = MODEL[name];
    if (element) {
      if (element[0] === "w") { return fail(V12 ? "404" : "405"); }
      return ok(data[name] === undefined ? "" : String(data[name]));
    }
    var part = arrayPart(name);
    if (part && part[1] !== null && part[1] < count(part[0])) {
      if (data[name] === undefined) { return V12 ? ok("") : fail("403"); }
      return ok(String(data[name]));
    }
    return fail(V12 ? "201" : (part ? "301" : "401"));
  }

  function setValue(name, value) {
    name = String(name);
    value = String(value);
    if (stage === NOT_STARTED) { return fail(V12 ? "301" : "132"); }
    if (stage === ENDED) { return fail(V12 ? "301" : "133"); }
    if (name === "") { return fail(V12 ? "201" : "351"); }
    var last = name.slice(name.lastIndexOf(".") + 1);
    if (last === "_children" || last === "_count" || last === "_version") { return fail(V12 ? "402" : "404"); }
    var element = MODEL[name];
    if (element) {
      if (element[0] === "r") { return fail(V12 ? "403" : "404"); }
      var code = element[1](value);
      if (code !== "0") { return fail(code); }
      data[name] = value;
      if (element[2]) { changed[name] = true; }
      return ok("true");
    }
    var part = arrayPart(name);
    if (part && part[1] !== null && READ_ONLY_ARRAYS.indexOf(part[0]) < 0) {
      var size = count(part[0]);
      if (part[1] > size) { return fail(V12 ? "201" : "351"); }
      if (any(value) !== "0") { return fail(BAD); }
      if (part[1] === size) { data[part[0] + "._count"] = size + 1; }
      data[name] = value;
      return ok("true");
    }
    if (part && READ_ONLY_ARRAYS.indexOf(part[0]) >= 0) { return fail("404"); }
    return fail(V12 ? "201" : "401");
  }

  function initialize(argument) {
    if (String(argument === undefined ? "" : argument) !== "") { return fail("201"); }
    if (stage === RUNNING) { return fail(V12 ? "101" : "103"); }
    if (stage === ENDED) { return fail(V12 ? "101" : "104"); }
    stage = RUNNING;
    changed = {};
    send("initialize");
    return ok("true");
  }
  function commit(argument) {
    if (String(argument === undefined ? "" : argument) !== "") { return fail("201"); }
    if (stage !== RUNNING) { return fail(V12 ? "301" : (stage === ENDED ? "143" : "142")); }
    return send("commit") ? ok("true") : fail(V12 ? "101" : "391");
  }
  function finish(argument) {
    if (String(argument === undefined ? "" : argument) !== "") { return fail("201"); }
    if (stage !== RUNNING) { return fail(V12 ? "301" : (stage === ENDED ? "113" : "112")); }
    stage = ENDED;
    return send("finish") ? ok("true") : fail(V12 ? "101" : "111");
  }
  function lastErrorCode() { return lastError; }
  function errorString(code) { return MESSAGES[String(code)] || ""; }
  function diagnostic(code) { return MESSAGES[String(code === "" || code === undefined ? lastError : code)] || ""; }

  if (V12) {
    window.API = {
      LMSInitialize: initialize, LMSFinish: finish, LMSGetValue: getValue, LMSSetValue: setValue,
      LMSCommit: commit, LMSGetLastError: lastErrorCode, LMSGetErrorString: errorString,
      LMSGetDiagnostic: diagnostic
    };
  } else {
    window.API_1484_11 = {
      Initialize: initialize, Terminate: finish, GetValue: getValue, SetValue: setValue, Commit: commit,
      GetLastError: lastErrorCode, GetErrorString: errorString, GetDiagnostic: diagnostic, version: "1.0"
    };
  }
}());
