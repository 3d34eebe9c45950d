/* form.c: the resident's own pages, for the QR channel.
 *
 * A QR code on a compound's gate or a red mailbox opens GET /r?src=TOKEN
 * (written by `hlctl qr`). The daemon serves a small mobile-first page in
 * Chinese: category (filled from /v1/categories), description, optional
 * name and phone, submit. The page's script posts to /v1/appeals with
 * channel "qr" and the token, under an Idempotency-Key it makes once per
 * page, so a double tap stores one appeal, and shows the tracking code.
 * GET /t/{code} (or /status?code=) shows where an appeal stands, read from
 * /v1/appeals/{code}.
 *
 * Everything is served from here: no external assets, no cookies, no
 * templating (the pages are constant; the script reads the token from the
 * URL and writes text only through textContent), and a Content-Security-
 * Policy that allows nothing but this origin's own script and style.
 *
 * A link may carry a prepared appeal in its fragment, which never reaches a
 * server log: /r?src=cp-cp006#category=roads&body=...&name=...&phone=...
 * fills the form, and "&submit=1" sends it as soon as the page is ready (a
 * grid worker's prepared link; the headless-browser test uses it too). */
#include "intake.h"

#include <string.h>

#define S_CSP                                                                                      \
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "                \
    "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

static const char s_form_html[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>问题帮办 · \"码\"上就办</title>\n"
    "<link rel=\"stylesheet\" href=\"/assets/hl.css\"></head>\n"
    "<body><main>\n"
    "<h1>问题帮办 · \"码\"上就办</h1>\n"
    "<p class=\"lead\">有什么问题、意见或建议，请告诉我们。提交后您会得到一个查询码。</p>\n"
    "<p id=\"nosrc\" class=\"error\" hidden>请扫描小区门口或红色信箱上的二维码打开本页。</p>\n"
    "<form id=\"appeal\" novalidate>\n"
    "<label for=\"category\">问题类别</label>\n"
    "<select id=\"category\" name=\"category\"><option value=\"\">（不确定，请帮我分类）</option>"
    "</select>\n"
    "<label for=\"body\">问题描述 <span class=\"req\">必填</span></label>\n"
    "<textarea id=\"body\" name=\"body\" rows=\"6\" maxlength=\"5000\" required "
    "placeholder=\"请写清楚地点和情况\"></textarea>\n"
    "<label for=\"name\">姓名（选填）</label>\n"
    "<input id=\"name\" name=\"name\" maxlength=\"50\" autocomplete=\"name\">\n"
    "<label for=\"phone\">手机号（选填，便于回访）</label>\n"
    "<input id=\"phone\" name=\"phone\" type=\"tel\" maxlength=\"20\" autocomplete=\"tel\">\n"
    "<p id=\"error\" class=\"error\" role=\"alert\" hidden></p>\n"
    "<button id=\"submit\" type=\"submit\">提交</button>\n"
    "</form>\n"
    "<section id=\"done\" hidden><h2>已收到，谢谢您！</h2>\n"
    "<p>您的查询码：</p><p id=\"tracking-code\" class=\"code\"></p>\n"
    "<p>请保存查询码，可随时查看办理进度。</p>\n"
    "<p><a id=\"track-link\" href=\"/status\">查看办理进度</a></p></section>\n"
    "</main><script src=\"/assets/form.js\"></script></body></html>\n";

static const char s_track_html[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>办理进度查询</title>\n"
    "<link rel=\"stylesheet\" href=\"/assets/hl.css\"></head>\n"
    "<body><main>\n"
    "<h1>办理进度查询</h1>\n"
    "<form id=\"lookup\" action=\"/status\" method=\"get\">\n"
    "<label for=\"code\">查询码</label>\n"
    "<input id=\"code\" name=\"code\" maxlength=\"12\" autocapitalize=\"characters\" "
    "placeholder=\"HL开头的12位查询码\">\n"
    "<button type=\"submit\">查询</button></form>\n"
    "<p id=\"error\" class=\"error\" role=\"alert\" hidden></p>\n"
    "<section id=\"result\" hidden>\n"
    "<p>查询码 <span id=\"result-code\" class=\"code\"></span></p>\n"
    "<p>当前状态：<strong id=\"status\"></strong></p>\n"
    "<p>受理时间：<span id=\"received\"></span></p>\n"
    "<h2>办理经过</h2><ol id=\"history\"></ol></section>\n"
    "</main><script src=\"/assets/track.js\"></script></body></html>\n";

static const char s_css[] =
    "*{box-sizing:border-box}body{margin:0;font:16px/1.6 system-ui,-apple-system,\"PingFang "
    "SC\",\"Noto Sans CJK SC\",sans-serif;background:#fdf6f5;color:#222}\n"
    "main{max-width:34rem;margin:0 auto;padding:1rem}h1{color:#b71c1c;font-size:1.4rem}\n"
    "label{display:block;margin-top:1rem;font-weight:600}.req{color:#b71c1c;font-size:.8rem}\n"
    "input,select,textarea,button{width:100%;font:inherit;padding:.6rem;margin-top:.3rem;"
    "border:1px solid #ccc;border-radius:.4rem;background:#fff}\n"
    "button{margin-top:1.2rem;background:#c62828;color:#fff;border:0;font-weight:600}\n"
    "button:disabled{background:#999}.error{color:#b71c1c}\n"
    ".code{font:700 1.5rem/1.2 ui-monospace,monospace;letter-spacing:.08em}\n"
    "ol{padding-left:1.2rem}li{margin:.4rem 0}.when{color:#666;font-size:.9rem}\n";

static const char s_form_js[] =
    "'use strict';\n"
    "(function () {\n"
    "  var $ = function (id) { return document.getElementById(id); };\n"
    "  var src = new URLSearchParams(location.search).get('src') || '';\n"
    "  var pre = new URLSearchParams(location.hash.replace(/^#/, ''));\n"
    "  var key = (window.crypto && crypto.randomUUID) ? crypto.randomUUID()\n"
    "    : 'f' + Date.now().toString(36) + Math.random().toString(36).slice(2);\n"
    "  var busy = false;\n"
    "  function fail(msg) { var e = $('error'); e.textContent = msg; e.hidden = false; }\n"
    "  function send() {\n"
    "    if (busy) return;\n"
    "    $('error').hidden = true;\n"
    "    var body = $('body').value.trim(), name = $('name').value.trim(),\n"
    "        phone = $('phone').value.trim(), category = $('category').value;\n"
    "    if (!body) { fail('请填写问题描述。'); return; }\n"
    "    if (phone && !/^\\+?[0-9 -]{5,20}$/.test(phone)) { fail('手机号格式不对。'); return; }\n"
    "    var req = { channel: 'qr', qr: src, body: body };\n"
    "    if (category) req.category = category;\n"
    "    if (name || phone) {\n"
    "      req.contact = {};\n"
    "      if (name) req.contact.name = name;\n"
    "      if (phone) req.contact.phone = phone;\n"
    "    }\n"
    "    busy = true; $('submit').disabled = true; $('submit').textContent = '提交中…';\n"
    "    fetch('/v1/appeals', { method: 'POST', credentials: 'omit',\n"
    "      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'form-' + key },\n"
    "      body: JSON.stringify(req) })\n"
    "      .then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })\n"
    "      .then(function (res) {\n"
    "        var j = res[1];\n"
    "        if (res[0] !== 201 && res[0] !== 200) throw new Error(j.error && j.error.message ||\n"
    "          ('HTTP ' + res[0]));\n"
    "        $('tracking-code').textContent = j.tracking_code;\n"
    "        $('track-link').href = '/t/' + encodeURIComponent(j.tracking_code);\n"
    "        $('appeal').hidden = true; $('done').hidden = false;\n"
    "      })\n"
    "      .catch(function (e) {\n"
    "        busy = false; $('submit').disabled = false; $('submit').textContent = '提交';\n"
    "        fail('提交失败：' + e.message + '。请稍后再试。');\n"
    "      });\n"
    "  }\n"
    "  $('appeal').addEventListener('submit', function (ev) { ev.preventDefault(); send(); });\n"
    "  if (!/^[A-Za-z0-9._-]{1,64}$/.test(src)) {\n"
    "    $('nosrc').hidden = false; $('submit').disabled = true; return;\n"
    "  }\n"
    "  ['body', 'name', 'phone'].forEach(function (f) { if (pre.get(f)) $(f).value = pre.get(f); "
    "});\n"
    "  fetch('/v1/categories', { credentials: 'omit' })\n"
    "    .then(function (r) { return r.json(); })\n"
    "    .then(function (list) {\n"
    "      list.forEach(function (c) {\n"
    "        var o = document.createElement('option');\n"
    "        o.value = c.code; o.textContent = c.name; $('category').appendChild(o);\n"
    "      });\n"
    "      if (pre.get('category')) $('category').value = pre.get('category');\n"
    "    })\n"
    "    .catch(function () { /* the resident may still submit without a category */ })\n"
    "    .then(function () { if (pre.get('submit') === '1') send(); });\n"
    "})();\n";

static const char s_track_js[] =
    "'use strict';\n"
    "(function () {\n"
    "  var $ = function (id) { return document.getElementById(id); };\n"
    "  var names = { received: '已受理', classified: '已分类', routed: '已转交办理',\n"
    "    escalated: '已上报联盟', resolved: '已办结', confirmed: '居民已确认',\n"
    "    reopened: '已重新办理' };\n"
    "  var sizes = { wish: '微心愿', small: '小区自治（小问题）', large: '联盟协调（大问题）' };\n"
    "  function label(s) { return names[s] || s; }\n"
    "  function when(t) { var d = new Date(t); return isNaN(d) ? t : d.toLocaleString('zh-CN'); "
    "}\n"
    "  function fail(msg) { var e = $('error'); e.textContent = msg; e.hidden = false; }\n"
    "  var m = location.pathname.match(/^\\/t\\/([^/]+)$/);\n"
    "  var code = m ? decodeURIComponent(m[1]) : new "
    "URLSearchParams(location.search).get('code');\n"
    "  if (!code) return;\n"
    "  code = code.trim().toUpperCase();\n"
    "  $('code').value = code;\n"
    "  fetch('/v1/appeals/' + encodeURIComponent(code), { credentials: 'omit' })\n"
    "    .then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })\n"
    "    .then(function (res) {\n"
    "      var a = res[1];\n"
    "      if (res[0] === 404) { fail('没有找到这个查询码，请核对后再试。'); return; }\n"
    "      if (res[0] !== 200) throw new Error('HTTP ' + res[0]);\n"
    "      $('result-code').textContent = a.tracking_code;\n"
    "      $('status').textContent = label(a.status) + (a.size ? '（' + (sizes[a.size] || a.size) "
    "+ '）' : '');\n"
    "      $('status').setAttribute('data-status', a.status);\n"
    "      $('received').textContent = when(a.received_at);\n"
    "      (a.history || []).forEach(function (h) {\n"
    "        var li = document.createElement('li'), s = document.createElement('span');\n"
    "        s.className = 'when'; s.textContent = when(h.at) + ' ';\n"
    "        li.appendChild(s);\n"
    "        li.appendChild(document.createTextNode(label(h.status) + (h.detail ? '：' + h.detail "
    ": '')));\n"
    "        li.setAttribute('data-status', h.status);\n"
    "        $('history').appendChild(li);\n"
    "      });\n"
    "      $('result').hidden = false;\n"
    "    })\n"
    "    .catch(function (e) { fail('查询失败：' + e.message + '。请稍后再试。'); });\n"
    "})();\n";

static void s_send(hl_http_req_t *req, const char *type, const char *text, bool cache)
{
    hl_http_add_header(req, "Content-Security-Policy", S_CSP);
    hl_http_add_header(req, "X-Content-Type-Options", "nosniff");
    hl_http_add_header(req, "Referrer-Policy", "no-referrer");
    hl_http_add_header(req, "Cache-Control", cache ? "public, max-age=3600" : "no-store");
    size_t len = strlen(text);
    hl_http_reply_raw(req, 200, type, hl_strndup(text, len), len);
}

void intake_page_form_get(hl_http_req_t *req, void *arg)
{
    (void)arg;
    s_send(req, "text/html; charset=utf-8", s_form_html, false);
}

void intake_page_track_get(hl_http_req_t *req, void *arg)
{
    (void)arg;
    s_send(req, "text/html; charset=utf-8", s_track_html, false);
}

void intake_page_asset_get(hl_http_req_t *req, void *arg)
{
    (void)arg;
    static const struct {
        const char *name, *type, *text;
    } assets[] = {
        {"form.js", "text/javascript; charset=utf-8", s_form_js},
        {"track.js", "text/javascript; charset=utf-8", s_track_js},
        {"hl.css", "text/css; charset=utf-8", s_css},
    };
    const char *name = hl_http_param(req, 0);
    for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++)
        if (name && strcmp(name, assets[i].name) == 0) {
            s_send(req, assets[i].type, assets[i].text, true);
            return;
        }
    hl_http_reply_error(req, 404, NULL, "no such asset");
}
