/* Suggestions for a text box: the ARIA 1.2 combobox pattern with a listbox popup, for every input
   with a data-suggest-url (the header's search box, the skills of a profile…).

   Progressive enhancement: without this script the box is a plain text field, and with it the
   form still submits as before unless a suggestion is chosen. Every text shown or announced comes
   from the input's data- attributes, rendered in the page's language; the suggestions come from
   the same origin (with the session, so a member is offered what they may read).

   The suggestion URL answers {results: [{title, link?, type?, detail?}]}. By default choosing a
   suggestion opens its link. With data-suggest-fill="list" the box holds a comma-separated list:
   the last item is what is looked up, and choosing a suggestion puts its title in its place. */
(function () {
  "use strict";

  var DELAY_MS = 150;
  var MIN_CHARS = 2;
  var SEPARATOR = ",";

  /* Only links to web pages are followed: a title from another node must not run script. */
  function safeLink(link) {
    try {
      var url = new URL(link, window.location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  function enhance(input) {
    var data = input.dataset;
    var form = input.form;
    var fillList = data.suggestFill === "list";
    var minChars = parseInt(data.suggestMin, 10) || MIN_CHARS;
    // data-type-page="Wiki page" and so on: the type's label, shown under the title.
    function typeLabel(type) {
      return /^[a-z]+$/.test(type || "") ? data["type" + type.charAt(0).toUpperCase() + type.slice(1)] : "";
    }

    var listbox = document.createElement("ul");
    listbox.id = input.id + "-suggestions";
    listbox.className = "suggestions";
    listbox.setAttribute("role", "listbox");
    listbox.setAttribute("aria-label", data.suggestLabel || "");
    listbox.hidden = true;
    var status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    input.insertAdjacentElement("afterend", listbox);
    form.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);
    input.setAttribute("autocomplete", "off");

    var options = [];   // [{element, link, value}]
    var active = -1;
    var timer = 0;
    var controller = null;

    // What is looked up: the whole box, or its last comma-separated item.
    function typed() {
      var text = input.value;
      return (fillList ? text.slice(text.lastIndexOf(SEPARATOR) + 1) : text).trim();
    }

    function announce(count) {
      var template = count === 1 ? data.suggestOne : data.suggestOther;
      status.textContent = template ? template.replace("{n}", String(count)) : "";
    }

    function setActive(index) {
      if (active >= 0 && options[active]) {
        options[active].element.setAttribute("aria-selected", "false");
      }
      active = index;
      if (active >= 0) {
        var element = options[active].element;
        element.setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", element.id);
        element.scrollIntoView({block: "nearest"});
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function isOpen() {
      return !listbox.hidden;
    }

    function open() {
      if (!options.length) return;
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function close() {
      setActive(-1);
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
    }

    function cancel() {
      window.clearTimeout(timer);
      if (controller) controller.abort();
      controller = null;
    }

    function choose(index) {
      var option = options[index];
      if (!option) return;
      if (fillList) {
        var cut = input.value.lastIndexOf(SEPARATOR);
        var before = cut >= 0 ? input.value.slice(0, cut + 1) + " " : "";
        input.value = before + option.value + SEPARATOR + " ";
        options = [];
        listbox.textContent = "";
        close();
        input.setSelectionRange(input.value.length, input.value.length);
        return;
      }
      close();
      window.location.assign(option.link);
    }

    // In a list, the items already in the box (lower case) are not offered again.
    function listed() {
      if (!fillList) return [];
      return input.value.split(SEPARATOR).slice(0, -1).map(function (item) { return item.trim().toLowerCase(); });
    }

    function show(results) {
      listbox.textContent = "";
      options = [];
      active = -1;
      var present = listed();
      results.forEach(function (result) {
        if (fillList && present.indexOf(String(result.title || "").toLowerCase()) >= 0) return;
        var link = fillList ? null : safeLink(result.link || "");
        if (!fillList && !link) return;
        if (fillList && !result.title) return;
        var index = options.length;
        var element = document.createElement("li");
        element.id = listbox.id + "-" + index;
        element.setAttribute("role", "option");
        element.setAttribute("aria-selected", "false");
        var title = document.createElement("span");
        title.className = "suggestion-title";
        title.textContent = result.title || result.link;
        if (result.language) title.lang = result.language;
        element.appendChild(title);
        var label = typeLabel(result.type) || result.detail || "";
        if (label) {
          var separator = document.createElement("span");
          separator.className = "visually-hidden";
          separator.textContent = ", ";
          var type = document.createElement("span");
          type.className = "suggestion-type";
          type.textContent = label;
          element.appendChild(separator);
          element.appendChild(type);
        }
        element.addEventListener("click", function () { choose(index); });
        listbox.appendChild(element);
        options.push({element: element, link: link, value: result.title});
      });
      announce(options.length);
      if (options.length) {
        open();
        setActive(-1);
      } else {
        close();
      }
    }

    function fetchNow() {
      cancel();
      var text = typed();
      if (text.length < minChars) {
        options = [];
        listbox.textContent = "";
        close();
        return;
      }
      controller = new AbortController();
      var url = new URL(data.suggestUrl, window.location.href);
      url.searchParams.set("q", text);
      fetch(url.href, {headers: {Accept: "application/json"}, credentials: "same-origin", signal: controller.signal})
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (body) {
          // Only for what is in the box now, and only while the box has focus.
          if (typed() === text && document.activeElement === input) show(body.results || []);
        })
        .catch(function (error) {
          if (error.name !== "AbortError") close();  // the plain form still works
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(fetchNow, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      if (event.isComposing || event.ctrlKey || event.metaKey) return;
      switch (event.key) {
        case "ArrowDown":
        case "ArrowUp": {
          event.preventDefault();
          if (!options.length) {
            fetchNow();
            return;
          }
          var down = event.key === "ArrowDown";
          if (!isOpen()) {
            open();
            if (!event.altKey) setActive(down ? 0 : options.length - 1);
            return;
          }
          if (event.altKey) return;
          // Past either end, back to the words typed (no option chosen).
          var next = active + (down ? 1 : -1);
          if (active === -1 && !down) next = options.length - 1;
          setActive(next >= options.length || next < -1 ? -1 : next);
          return;
        }
        case "Enter":
          if (isOpen() && active >= 0) {
            event.preventDefault();
            choose(active);
          } else {
            close();  // the form submits as it always did
          }
          return;
        case "Escape":
          if (isOpen()) {
            event.preventDefault();
            close();
          } else if (input.value && !fillList) {  // a list of items is never wiped by one key
            event.preventDefault();
            cancel();
            input.value = "";
            options = [];
            listbox.textContent = "";
          }
          return;
        case "Tab":
          close();
          return;
        default:
          return;
      }
    });

    // Keep the focus in the box while an option is clicked, so the click lands before the popup closes.
    listbox.addEventListener("mousedown", function (event) { event.preventDefault(); });
    input.addEventListener("blur", function () {
      cancel();
      close();
    });
    // A page restored from the back/forward cache must not show a stale popup.
    window.addEventListener("pageshow", function () { close(); });
  }

  document.querySelectorAll("input[data-suggest-url]").forEach(enhance);
}());
