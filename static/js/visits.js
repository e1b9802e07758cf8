/* 走访 pages: the "记走访" form (household picking, problem rows, location, kind sections)
   and OFFLINE DRAFTS.

   Drafts: every draft has a client_id (a UUID made on the phone). The form is saved to
   localStorage as you type ("editing") and — when a submit fails because the phone is
   offline, the network drops, the server answers 5xx or the login has expired — marked
   "pending" and shown as "草稿已保存，恢复网络后自动提交". Pending drafts are re-sent when
   the browser fires `online` and whenever a 走访 page loads. The server's visit_log is
   idempotent on client_id, so a draft sent twice lands once.

   Photos: kept with the draft in IndexedDB (File/Blob objects; localStorage cannot hold
   them). If IndexedDB is not available (private mode on some phones), the text is still
   saved and the user is told the photos must be re-attached.

   A draft the server refuses (400: e.g. a future date) is kept as "error" and comes back
   into the form on the next visit to 记走访 for correcting. Drafts belong to the logged-in
   user (key per user id). No inline scripts; no external requests. */
(function () {
  "use strict";

  var box = document.getElementById("xz-visit-drafts");
  var USER = box ? box.getAttribute("data-user") : "";
  var POST_URL = box ? box.getAttribute("data-post-url") : "";
  var FORM_URL = box ? box.getAttribute("data-form-url") : "";
  var KEY = "xz-visit-drafts:u" + USER;
  var DB_NAME = "xz-visits";
  var sending = {};

  // --- storage -------------------------------------------------------------------------
  function loadAll() {
    try { return JSON.parse(window.localStorage.getItem(KEY) || "{}") || {}; } catch (e) { return {}; }
  }
  function saveAll(all) {
    try { window.localStorage.setItem(KEY, JSON.stringify(all)); return true; } catch (e) { return false; }
  }
  function putDraft(d) { var all = loadAll(); all[d.id] = d; return saveAll(all); }
  function getDraft(id) { return loadAll()[id] || null; }
  function dropDraft(id) { var all = loadAll(); delete all[id]; saveAll(all); photosDelete(id); }

  function uuid() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var b = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // IndexedDB for photos: { id: draft id, files: [{name, type, blob}] }
  function db() {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("no indexedDB")); return; }
      var req;
      try { req = window.indexedDB.open(DB_NAME, 1); } catch (e) { reject(e); return; }
      req.onupgradeneeded = function () { req.result.createObjectStore("photos", { keyPath: "id" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function photosPut(id, files) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var tx = d.transaction("photos", "readwrite");
        tx.objectStore("photos").put({ id: id, files: files });
        tx.oncomplete = function () { resolve(true); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }
  function photosGet(id) {
    return db().then(function (d) {
      return new Promise(function (resolve) {
        var req = d.transaction("photos").objectStore("photos").get(id);
        req.onsuccess = function () { resolve((req.result && req.result.files) || []); };
        req.onerror = function () { resolve([]); };
      });
    }).catch(function () { return []; });
  }
  function photosDelete(id) {
    db().then(function (d) { d.transaction("photos", "readwrite").objectStore("photos").delete(id); }).catch(function () {});
  }

  // --- status line --------------------------------------------------------------------------
  function status(text, kind, link) {
    var el = document.getElementById("draft-status");
    if (!el) return;
    el.className = "alert alert-" + (kind || "warning");
    el.textContent = text;
    if (link) {
      var a = document.createElement("a");
      a.href = link.href; a.textContent = link.text; a.className = "ms-2";
      el.appendChild(a);
    }
  }

  // --- the form -------------------------------------------------------------------------
  function fields(form) {
    var out = [], labels = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.type === "file" || el.name === "csrfmiddlewaretoken" ||
          el.hasAttribute("data-xz-no-draft")) return;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      if (el.type === "submit" || el.type === "button") return;
      out.push([el.name, el.value]);
      if (el.name === "households" && el.getAttribute("data-label")) labels[el.value] = el.getAttribute("data-label");
    });
    return { fields: out, labels: labels };
  }

  function pickedFiles(form) {
    var files = [];
    form.querySelectorAll("input[type=file]").forEach(function (input) {
      Array.prototype.forEach.call(input.files || [], function (f) {
        files.push({ name: f.name, type: f.type, blob: f });
      });
    });
    return files;
  }

  function clientId(form) {
    var input = form.querySelector("input[name=client_id]");
    if (!input.value) input.value = uuid();
    return input.value;
  }

  function hasContent(data) {
    return data.fields.some(function (p) {
      return (p[0] === "summary" || p[0] === "problems" || p[0] === "households" || p[0] === "group_name") && p[1].trim();
    });
  }

  function saveTyping(form) {
    var data = fields(form);
    var id = clientId(form);
    var old = getDraft(id);
    if (!hasContent(data)) { if (old && old.status === "editing") dropDraft(id); return; }
    putDraft({ id: id, status: old && old.status === "pending" ? "pending" : "editing", fields: data.fields,
      labels: data.labels, savedAt: Date.now() });
    var clear = form.querySelector("[data-xz-clear-draft]");
    if (clear) clear.classList.remove("d-none");
  }

  function addChip(container, pk, label) {
    if (!container || container.querySelector('[data-chip="' + pk + '"]')) return;
    var form = container.closest("form");
    var box = form && form.querySelector('input[type=checkbox][name=households][value="' + pk + '"]');
    if (box) { box.checked = true; return; }
    var chip = document.createElement("span");
    chip.className = "badge bg-blue-lt me-1 mb-1 xz-chip";
    chip.setAttribute("data-chip", pk);
    var input = document.createElement("input");
    input.type = "hidden"; input.name = "households"; input.value = pk; input.setAttribute("data-label", label);
    var close = document.createElement("button");
    close.type = "button"; close.className = "btn-close ms-1"; close.setAttribute("aria-label", "移除");
    close.setAttribute("data-xz-unpick", "");
    chip.appendChild(input);
    chip.appendChild(document.createTextNode(label + " "));
    chip.appendChild(close);
    container.appendChild(chip);
  }

  function addProblemRow(form, value) {
    var rows = form.querySelector("#problem-rows");
    if (!rows) return null;
    var input = document.createElement("input");
    input.type = "text"; input.name = "problems"; input.className = "form-control mb-2"; input.maxLength = 1000;
    input.placeholder = "如 屋顶漏雨需修缮"; input.setAttribute("aria-label", "问题");
    input.value = value || "";
    rows.appendChild(input);
    return input;
  }

  function restore(form, draft) {
    var byName = {};
    draft.fields.forEach(function (p) { (byName[p[0]] = byName[p[0]] || []).push(p[1]); });
    form.querySelectorAll("input[type=checkbox][name=households]").forEach(function (b) { b.checked = false; });
    var chips = form.querySelector("#picked-households");
    if (chips) chips.innerHTML = "";
    var rows = form.querySelector("#problem-rows");
    if (rows) rows.innerHTML = "";
    Object.keys(byName).forEach(function (name) {
      var values = byName[name];
      if (name === "households") {
        values.forEach(function (pk) { addChip(chips, pk, (draft.labels && draft.labels[pk]) || ("户 " + pk)); });
      } else if (name === "problems") {
        values.forEach(function (v) { addProblemRow(form, v); });
      } else {
        var els = form.querySelectorAll('[name="' + name + '"]');
        els.forEach(function (el) {
          if (el.type === "radio" || el.type === "checkbox") el.checked = values.indexOf(el.value) >= 0;
          else if (el.type !== "file") el.value = values[0];
        });
      }
    });
    if (rows) addProblemRow(form, "");
    form.querySelector("input[name=client_id]").value = draft.id;
  }

  function showKind(form) {
    var checked = form.querySelector("input[name=kind]:checked");
    var kind = checked ? checked.value : "visit";
    form.querySelectorAll("[data-kind]").forEach(function (el) {
      el.hidden = el.getAttribute("data-kind").split(" ").indexOf(kind) < 0;
    });
  }

  function markPending(form, why) {
    var id = clientId(form);
    var data = fields(form);
    var files = pickedFiles(form);
    putDraft({ id: id, status: "pending", fields: data.fields, labels: data.labels, savedAt: Date.now(),
      photos: files.length });
    var done = function (kept) {
      var text = why === "login" ? "登录已过期：草稿已保存，重新登录后自动提交" : "草稿已保存，恢复网络后自动提交";
      if (files.length && !kept) text += "（照片未能保存在本机，提交后请重新补拍）";
      status(text, "warning");
    };
    if (files.length) photosPut(id, files).then(function () { done(true); }, function () { done(false); });
    else done(true);
  }

  function replaceForm(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("visit-form-root");
    var old = document.getElementById("visit-form-root");
    if (!fresh || !old) { document.open(); document.write(html); document.close(); return; }
    old.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
    bindForm(fresh.querySelector("form[data-xz-visit-form]"));
    fresh.scrollIntoView();
  }

  function isLogin(url) { return /\/accounts\/login/.test(url || ""); }

  function bindForm(form) {
    if (!form || form.getAttribute("data-xz-bound")) return;
    form.setAttribute("data-xz-bound", "1");
    var id = clientId(form);
    // a draft left from before (typing, or refused by the server) comes back into the form
    if (!form.querySelector(".is-invalid") && !document.getElementById("form-errors")) {
      var all = loadAll();
      var mine = Object.keys(all).map(function (k) { return all[k]; })
        .filter(function (d) { return d.status === "editing" || d.status === "error"; })
        .sort(function (a, b) { return b.savedAt - a.savedAt; })[0];
      if (mine && mine.id !== id) {
        restore(form, mine);
        status(mine.status === "error" ? "上次离线保存的走访提交未成功：" + (mine.error || "内容有误") + "，请修改后保存" :
          "已恢复上次未提交的草稿", "info");
        var clear = form.querySelector("[data-xz-clear-draft]");
        if (clear) clear.classList.remove("d-none");
      }
    }
    showKind(form);
    var timer;
    form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { saveTyping(form); }, 400); });
    form.addEventListener("change", function (ev) {
      if (ev.target.name === "kind") showKind(form);
      saveTyping(form);
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var btn = form.querySelector("[type=submit]");
      saveTyping(form);
      if (navigator.onLine === false) { markPending(form, "offline"); return; }
      if (btn) btn.disabled = true;
      fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { "X-Requested-With": "XMLHttpRequest" } })
        .then(function (resp) {
          if (resp.redirected && isLogin(resp.url)) { markPending(form, "login"); return null; }
          if (resp.status >= 500) { markPending(form, "server"); return null; }
          if (resp.status === 201) {
            return resp.json().then(function (data) {
              dropDraft(clientId(form));
              window.location.assign(data.url);
            });
          }
          return resp.text().then(replaceForm);
        })
        .catch(function () { markPending(form, "offline"); })
        .then(function () { if (btn) btn.disabled = false; });
    });
    form.addEventListener("click", function (ev) {
      var t = ev.target;
      if (t.closest("[data-xz-add-problem]")) { var row = addProblemRow(form, ""); if (row) row.focus(); }
      if (t.closest("[data-xz-unpick]")) { t.closest(".xz-chip").remove(); saveTyping(form); }
      if (t.closest("[data-xz-clear-draft]")) {
        dropDraft(clientId(form));
        window.location.assign(FORM_URL);
      }
      if (t.closest("[data-xz-locate]")) locate(form);
    });
  }

  function locate(form) {
    var text = form.querySelector("#location-text");
    if (!navigator.geolocation) { if (text) text.textContent = "此设备不支持定位"; return; }
    if (text) text.textContent = "正在定位…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.querySelector("input[name=latitude]").value = pos.coords.latitude.toFixed(6);
      form.querySelector("input[name=longitude]").value = pos.coords.longitude.toFixed(6);
      if (text) text.textContent = "已记录位置（误差约 " + Math.round(pos.coords.accuracy) + " 米）";
      saveTyping(form);
    }, function () {
      if (text) text.textContent = "无法获取位置（可不填）";
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  // household search results (visit form: several; contact form: one)
  document.addEventListener("click", function (ev) {
    var opt = ev.target.closest && ev.target.closest("[data-xz-pick-household]");
    if (!opt) return;
    var pk = opt.getAttribute("data-xz-pick-household");
    var label = opt.getAttribute("data-label");
    var results = document.getElementById("household-results");
    var search = document.getElementById("household-search");
    if (opt.getAttribute("data-mode") === "single") {
      var hidden = document.querySelector("input[name=household]");
      if (hidden) hidden.value = pk;
      var shown = document.getElementById("household-picked");
      var lab = document.getElementById("household-picked-label");
      if (lab) lab.textContent = label;
      if (shown) shown.classList.remove("d-none");
    } else {
      addChip(document.getElementById("picked-households"), pk, label);
      var form = opt.closest("form");
      if (form) saveTyping(form);
    }
    if (results) results.innerHTML = "";
    if (search) { search.value = ""; }
  });

  // --- re-sending pending drafts ---------------------------------------------------------------
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function send(d) {
    if (sending[d.id] || !POST_URL) return Promise.resolve();
    sending[d.id] = true;
    return photosGet(d.id).then(function (files) {
      var body = new FormData();
      d.fields.forEach(function (p) { if (p[0] !== "csrfmiddlewaretoken") body.append(p[0], p[1]); });
      if (!d.fields.some(function (p) { return p[0] === "client_id"; })) body.append("client_id", d.id);
      files.forEach(function (f) { body.append("photos", f.blob, f.name || "photo.jpg"); });
      var token = csrf();
      body.append("csrfmiddlewaretoken", token);
      return fetch(POST_URL, { method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRFToken": token, "X-Requested-With": "XMLHttpRequest" } });
    }).then(function (resp) {
      if (!resp) return;
      if (resp.redirected && isLogin(resp.url)) { status("登录已过期：离线草稿已保存，重新登录后自动提交", "warning"); return; }
      if (resp.status >= 500) return;  // stays pending
      if (resp.status === 201) {
        return resp.json().then(function (data) {
          dropDraft(d.id);
          status("离线保存的走访已提交。", "success", { href: data.url, text: "查看" });
        });
      }
      // refused (400/403): keep it for correcting in the form
      return resp.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var err = doc.querySelector(".xz-field-error, #form-errors");
        d.status = "error";
        d.error = err ? err.textContent.trim().slice(0, 120) : "内容有误";
        putDraft(d);
        status("有一份离线保存的走访未能提交：" + d.error, "danger", { href: FORM_URL, text: "去修改" });
      });
    }).catch(function () { /* still offline: stays pending */ })
      .then(function () { delete sending[d.id]; });
  }

  function flush() {
    if (navigator.onLine === false) return;
    var all = loadAll();
    var pending = Object.keys(all).map(function (k) { return all[k]; }).filter(function (d) { return d.status === "pending"; });
    if (!pending.length) return;
    status("正在提交离线保存的走访（" + pending.length + " 份）…", "info");
    pending.reduce(function (p, d) { return p.then(function () { return send(d); }); }, Promise.resolve());
  }

  function init() {
    if (!box) return;
    bindForm(document.querySelector("form[data-xz-visit-form]"));
    var all = loadAll();
    var waiting = Object.keys(all).filter(function (k) { return all[k].status === "pending"; }).length;
    if (waiting && navigator.onLine === false) status("有 " + waiting + " 份走访草稿已保存，恢复网络后自动提交", "warning");
    flush();
    window.addEventListener("online", flush);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
