/*
 * Page behaviour for the registry, switched on by data- attributes so that
 * templates need no script of their own. The Content-Security-Policy allows
 * only scripts from this site: nothing here uses eval, inline handlers or
 * inline style attributes. Listeners sit on the document, so content that
 * htmx swaps in later behaves like the first page.
 *
 *   data-autocomplete-url="/places/units"   suggestions as the user types
 *   data-confirm="Question?"                 ask before submitting or following
 *   data-repeat / data-repeat-list / data-repeat-item / data-repeat-template
 *   data-repeat-add [data-repeat-max] / data-repeat-remove     rows of fields
 *   data-autosubmit                          submit the form when the value changes
 *   data-copy="text" or data-copy-target=id  copy to the clipboard
 */
(function () {
  "use strict";

  var AUTOCOMPLETE_DELAY_MS = 200;
  var AUTOCOMPLETE_MIN_CHARS = 2;
  var COPIED_FEEDBACK_MS = 1500;
  var HTMX_VERBS = ["get", "post", "put", "patch", "delete"];
  var idCounter = 0;

  function nextId(prefix) {
    idCounter += 1;
    return prefix + "-" + idCounter;
  }

  // ---- htmx: no eval, no injected <style>, nothing cached in localStorage.

  function configureHtmx() {
    if (!window.htmx) {
      return;
    }
    var config = window.htmx.config;
    config.allowEval = false;
    config.allowScriptTags = false;
    config.includeIndicatorStyles = false;
    config.selfRequestsOnly = true;
    // Pages show personal data: keep no copies of them in the browser.
    config.historyCacheSize = 0;
    config.refreshOnHistoryMiss = true;
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function addCsrfHeader(event) {
    var token = csrfToken();
    if (token) {
      event.detail.headers["X-CSRFToken"] = token;
    }
  }

  // ---- data-confirm

  function confirmSubmit(event) {
    var form = event.target;
    var submitter = event.submitter;
    var holder = submitter && submitter.hasAttribute("data-confirm") ? submitter : form;
    if (!holder.hasAttribute("data-confirm")) {
      return;
    }
    if (!window.confirm(holder.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }

  function confirmClick(event) {
    var element = event.target.closest("[data-confirm]");
    if (!element || element.tagName === "FORM" || submitsForm(element)) {
      return;  // forms and their submit buttons are asked in confirmSubmit
    }
    if (!window.confirm(element.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }

  // A submit button fires "submit", unless htmx sends its own request on click.
  function submitsForm(element) {
    var isButton = element.tagName === "BUTTON" || element.tagName === "INPUT";
    var sendsRequest = HTMX_VERBS.some(function (verb) {
      return element.hasAttribute("hx-" + verb) || element.hasAttribute("data-hx-" + verb);
    });
    return isButton && element.form !== null && element.type === "submit" && !sendsRequest;
  }

  // ---- data-autosubmit

  function autosubmit(event) {
    var field = event.target.closest("[data-autosubmit]");
    if (!field || !field.form) {
      return;
    }
    if (field.form.requestSubmit) {
      field.form.requestSubmit();
    } else {
      field.form.submit();
    }
  }

  // ---- data-copy

  function copyToClipboard(event) {
    var button = event.target.closest("[data-copy]");
    if (!button) {
      return;
    }
    event.preventDefault();
    var text = copyText(button);
    var done = function () { showCopied(button); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {
        if (copyWithSelection(text)) { done(); }
      });
    } else if (copyWithSelection(text)) {
      done();
    }
  }

  function copyText(button) {
    var targetId = button.getAttribute("data-copy-target");
    var target = targetId ? document.getElementById(targetId) : null;
    if (!target) {
      return button.getAttribute("data-copy");
    }
    return "value" in target ? target.value : target.textContent.trim();
  }

  // Plain-HTTP intranet pages have no Clipboard API; a selected textarea works.
  function copyWithSelection(text) {
    var buffer = document.createElement("textarea");
    buffer.className = "copy-buffer";
    buffer.value = text;
    buffer.setAttribute("readonly", "");
    document.body.appendChild(buffer);
    buffer.select();
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    buffer.remove();
    return copied;
  }

  function showCopied(button) {
    var label = button.getAttribute("data-copied-label");
    var original = button.textContent;
    button.classList.add("is-copied");
    if (label) {
      button.textContent = label;
    }
    window.setTimeout(function () {
      button.classList.remove("is-copied");
      if (label) {
        button.textContent = original;
      }
    }, COPIED_FEEDBACK_MS);
  }

  // ---- data-repeat: rows of fields such as several phone numbers

  function repeatAdd(button) {
    var group = button.closest("[data-repeat]");
    var template = group && group.querySelector("template[data-repeat-template]");
    if (!template || repeatIsFull(group)) {
      return;
    }
    var index = nextRepeatIndex(group);
    var fragment = template.content.cloneNode(true);
    fragment.querySelectorAll("*").forEach(function (element) {
      replaceIndex(element, String(index));
    });
    var added = fragment.firstElementChild;
    if (added && !added.hasAttribute("data-repeat-item")) {
      added.setAttribute("data-repeat-item", "");
    }
    var items = group.querySelector("[data-repeat-list]");
    if (items) {
      items.appendChild(fragment);
    } else {
      template.parentNode.insertBefore(fragment, template);
    }
    group.setAttribute("data-repeat-next", String(index + 1));
    updateRepeatButtons(group);
    focusFirstField(added);
    if (window.htmx && added) {
      window.htmx.process(added);
    }
  }

  function repeatRemove(button) {
    var group = button.closest("[data-repeat]");
    var item = button.closest("[data-repeat-item]");
    if (!group || !item) {
      return;
    }
    item.remove();
    updateRepeatButtons(group);
    var add = group.querySelector("[data-repeat-add]");
    if (add) {
      add.focus();
    }
  }

  // Indexes only grow, so a removed row's number is never given out twice.
  function nextRepeatIndex(group) {
    var stored = parseInt(group.getAttribute("data-repeat-next"), 10);
    var count = group.querySelectorAll("[data-repeat-item]").length;
    return isNaN(stored) ? count : Math.max(stored, count);
  }

  function repeatIsFull(group) {
    var holder = group.querySelector("[data-repeat-add][data-repeat-max]") || group;
    var max = parseInt(holder.getAttribute("data-repeat-max"), 10);
    return !isNaN(max) && group.querySelectorAll("[data-repeat-item]").length >= max;
  }

  function updateRepeatButtons(group) {
    var full = repeatIsFull(group);
    group.querySelectorAll("[data-repeat-add]").forEach(function (add) {
      add.disabled = full;
    });
  }

  function replaceIndex(element, index) {
    Array.prototype.forEach.call(element.attributes, function (attribute) {
      if (attribute.value.indexOf("__index__") !== -1) {
        attribute.value = attribute.value.split("__index__").join(index);
      }
    });
  }

  function focusFirstField(element) {
    var field = element && element.querySelector("input, select, textarea");
    if (field) {
      field.focus();
    }
  }

  function repeatClick(event) {
    var add = event.target.closest("[data-repeat-add]");
    var remove = event.target.closest("[data-repeat-remove]");
    if (add) {
      event.preventDefault();
      repeatAdd(add);
    } else if (remove) {
      event.preventDefault();
      repeatRemove(remove);
    }
  }

  // ---- data-autocomplete-url: a listbox of suggestions under the input

  var completers = new WeakMap();

  function Completer(input) {
    this.input = input;
    this.hidden = document.getElementById(input.getAttribute("data-autocomplete-target"));
    this.unitField = document.getElementById(
      input.getAttribute("data-autocomplete-unit-target"));
    this.timer = null;
    this.request = null;
    this.items = [];
    this.active = -1;
    this.list = this.makeList();
  }

  Completer.forInput = function (input) {
    var completer = completers.get(input);
    if (!completer) {
      completer = new Completer(input);
      completers.set(input, completer);
    }
    return completer;
  };

  Completer.prototype.makeList = function () {
    var list = document.createElement("ul");
    list.id = nextId("autocomplete");
    list.className = "dropdown-menu autocomplete-menu";
    list.setAttribute("role", "listbox");
    if (this.input.labels && this.input.labels.length) {
      list.setAttribute("aria-label", this.input.labels[0].textContent.trim());
    }
    list.addEventListener("mousedown", this.onListMouseDown.bind(this));
    this.input.insertAdjacentElement("afterend", list);
    this.input.parentNode.classList.add("autocomplete-anchor");
    this.input.setAttribute("role", "combobox");
    this.input.setAttribute("aria-autocomplete", "list");
    this.input.setAttribute("aria-expanded", "false");
    this.input.setAttribute("aria-controls", list.id);
    this.input.setAttribute("autocomplete", "off");
    return list;
  };

  Completer.prototype.onInput = function () {
    this.clearChoice();
    window.clearTimeout(this.timer);
    var query = this.input.value.trim();
    if (query.length < AUTOCOMPLETE_MIN_CHARS) {
      this.close();
      return;
    }
    this.timer = window.setTimeout(this.fetch.bind(this, query), AUTOCOMPLETE_DELAY_MS);
  };

  Completer.prototype.clearChoice = function () {
    if (this.hidden && this.hidden.value !== "") {
      this.hidden.value = "";
      this.hidden.dispatchEvent(new Event("change", { bubbles: true }));
    }
    if (this.unitField) {
      this.unitField.value = "";
    }
  };

  Completer.prototype.fetch = function (query) {
    if (this.request) {
      this.request.abort();
    }
    var url = new URL(this.input.getAttribute("data-autocomplete-url"), window.location.href);
    url.searchParams.set("q", query);
    var request = new AbortController();
    this.request = request;
    var self = this;
    window.fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      signal: request.signal,
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("suggestions answered " + response.status);
      }
      return response.json();
    }).then(function (items) {
      if (self.request === request && document.activeElement === self.input) {
        self.show(Array.isArray(items) ? items : []);
      }
    }).catch(function (error) {
      if (error.name !== "AbortError") {
        self.close();
        console.warn("autocomplete:", error.message);
      }
    });
  };

  Completer.prototype.show = function (items) {
    this.items = items;
    this.active = -1;
    this.list.replaceChildren();
    this.input.removeAttribute("aria-activedescendant");
    var self = this;
    items.forEach(function (item, position) {
      self.list.appendChild(self.makeOption(item, position));
    });
    if (!items.length) {
      var empty = this.input.getAttribute("data-autocomplete-empty");
      if (!empty) {
        this.close();
        return;
      }
      this.list.appendChild(this.makeEmptyNote(empty));
    }
    this.place();
    this.list.classList.add("show");
    this.input.setAttribute("aria-expanded", "true");
  };

  Completer.prototype.makeOption = function (item, position) {
    var option = document.createElement("li");
    option.id = this.list.id + "-" + position;
    option.className = "dropdown-item";
    option.setAttribute("role", "option");
    option.setAttribute("aria-selected", "false");
    option.setAttribute("data-position", String(position));
    option.textContent = item.label;
    return option;
  };

  Completer.prototype.makeEmptyNote = function (text) {
    var note = document.createElement("li");
    note.className = "dropdown-item-text text-body-secondary";
    note.setAttribute("role", "option");
    note.setAttribute("aria-disabled", "true");
    note.textContent = text;
    return note;
  };

  // Sets position through the CSSOM, which the style-src policy allows.
  Completer.prototype.place = function () {
    this.list.style.top = (this.input.offsetTop + this.input.offsetHeight) + "px";
    this.list.style.left = this.input.offsetLeft + "px";
    this.list.style.minWidth = this.input.offsetWidth + "px";
  };

  Completer.prototype.close = function () {
    this.list.classList.remove("show");
    this.list.replaceChildren();
    this.items = [];
    this.active = -1;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  };

  Completer.prototype.isOpen = function () {
    return this.list.classList.contains("show");
  };

  Completer.prototype.move = function (step) {
    if (!this.items.length) {
      return;
    }
    var count = this.items.length;
    this.highlight((this.active + step + count) % count);
  };

  Completer.prototype.highlight = function (position) {
    var options = this.list.querySelectorAll("[data-position]");
    options.forEach(function (option, index) {
      option.classList.toggle("active", index === position);
      option.setAttribute("aria-selected", index === position ? "true" : "false");
    });
    this.active = position;
    this.input.setAttribute("aria-activedescendant", options[position].id);
    options[position].scrollIntoView({ block: "nearest" });
  };

  Completer.prototype.choose = function (position) {
    var item = this.items[position];
    if (!item) {
      return;
    }
    this.input.value = item.label;
    if (this.hidden) {
      this.hidden.value = item.code;
      this.hidden.dispatchEvent(new Event("change", { bubbles: true }));
    }
    if (this.unitField) {
      this.unitField.value = item.unit_code || "";
    }
    this.close();
    this.input.dispatchEvent(new CustomEvent("autocomplete:chosen", {
      bubbles: true, detail: item,
    }));
  };

  Completer.prototype.onKeyDown = function (event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (this.isOpen()) {
        event.preventDefault();
        this.move(event.key === "ArrowDown" ? 1 : -1);
      }
    } else if (event.key === "Enter") {
      if (this.isOpen() && this.active >= 0) {
        event.preventDefault();  // choosing is not submitting the form
        this.choose(this.active);
      }
    } else if (event.key === "Escape") {
      if (this.isOpen()) {
        event.preventDefault();
        event.stopPropagation();  // leave an enclosing modal open
        this.close();
      }
    } else if (event.key === "Tab") {
      this.close();
    }
  };

  // mousedown, not click: the input keeps its focus and does not blur first.
  Completer.prototype.onListMouseDown = function (event) {
    event.preventDefault();
    var option = event.target.closest("[data-position]");
    if (option) {
      this.choose(parseInt(option.getAttribute("data-position"), 10));
    }
  };

  function autocompleteInput(event) {
    var input = event.target;
    if (input.matches && input.matches("input[data-autocomplete-url]")) {
      Completer.forInput(input).onInput();
    }
  }

  function autocompleteKeyDown(event) {
    var input = event.target;
    var completer = input.matches && input.matches("input[data-autocomplete-url]")
      ? completers.get(input) : null;
    if (completer) {
      completer.onKeyDown(event);
    }
  }

  function autocompleteBlur(event) {
    var completer = completers.get(event.target);
    if (completer) {
      completer.close();
    }
  }

  // ---- wiring

  function initialise(root) {
    var groups = Array.prototype.slice.call(root.querySelectorAll("[data-repeat]"));
    if (root.matches && root.matches("[data-repeat]")) {
      groups.push(root);
    }
    groups.forEach(updateRepeatButtons);
    // Build the comboboxes now, so that the fields carry their roles before the
    // first keystroke and a screen reader announces them as such.
    Array.prototype.slice.call(root.querySelectorAll("input[data-autocomplete-url]"))
      .forEach(function (input) { Completer.forInput(input); });
  }

  configureHtmx();
  document.addEventListener("DOMContentLoaded", function () { initialise(document); });
  document.addEventListener("htmx:load", function (event) { initialise(event.target); });
  document.addEventListener("htmx:configRequest", addCsrfHeader);
  document.addEventListener("submit", confirmSubmit, true);
  document.addEventListener("click", confirmClick, true);
  document.addEventListener("click", repeatClick);
  document.addEventListener("click", copyToClipboard);
  document.addEventListener("change", autosubmit);
  document.addEventListener("input", autocompleteInput);
  document.addEventListener("keydown", autocompleteKeyDown);
  document.addEventListener("focusout", autocompleteBlur);
})();
