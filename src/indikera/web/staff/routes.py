"""The staff area under ``/personal``: login, logout, the preview and approving a batch from it.

Every page here is private to the logged-in staff member: ``Cache-Control: private, no-store``, no ETag,
``noindex``. Every POST needs the same site (``session.same_origin``) and, once logged in, the session's
CSRF token; a refusal is a 403 page that changes nothing and is audited. Approval is
``publish.control.approve_batch`` with its audit row in the same transaction (``access.admin_audit.write``).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from ... import __version__
from ...access import admin_audit, audit
from ...access.admin_auth import Admin, authenticate, check_token
from ...access.resolve import identity_of
from ...context import AppContext
from ...publish import control
from ...publish.states import PublishError
from ...store.installation import installation_secret
from ..i18n import language
from ..page_errors import PageError
from . import pages, session
from .texts import staff_translator
from .throttle import FailedLogins

log = logging.getLogger("indikera.web.staff")

LOGIN, PREVIEW = "/personal/logga-in", "/personal/forhandsgranska"
MAX_FORM_BYTES = 4096
APPROVE_REASON = "Godkänd i förhandsgranskningen"
PRIVATE_HEADERS = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex, nofollow", "Vary": "Cookie"}


async def _form(request: Request) -> dict[str, str]:
    """A small urlencoded form; anything larger or not urlencoded reads as empty (and so fails its checks)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return {}
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return {}


def mount(app: FastAPI, ctx: AppContext, templates: Jinja2Templates) -> None:
    key_cache: list[bytes] = []
    failures = FailedLogins()

    def key() -> bytes:
        if not key_cache:
            key_cache.append(installation_secret(ctx.engine, session.SECRET_KEY))
        return key_cache[0]

    def current(request: Request) -> session.StaffSession | None:
        return session.read(key(), request.cookies.get(session.COOKIE))

    def render(request: Request, name: str, lang: str, context: dict[str, Any], status: int = 200,
               staff: session.StaffSession | None = None) -> HTMLResponse:
        other = "en" if lang == "sv" else "sv"
        lang_url = "?" + request.url.include_query_params(lang=other).query if request.method == "GET" and status == 200 else f"?lang={other}"
        response = templates.TemplateResponse(request, name, {
            "t": staff_translator(lang), "lang": lang, "lang_url": lang_url, "version": __version__, "staff_page": True,
            "staff": staff, "csrf": session.csrf_token(key(), staff) if staff else "", **context,
        }, status_code=status)
        return private(response)

    def private(response: Response) -> Response:
        from ..pages import SECURITY_HEADERS

        response.headers.update({**SECURITY_HEADERS, **PRIVATE_HEADERS})
        return response

    def error(request: Request, lang: str, status: int, title_key: str, message: str, staff=None) -> HTMLResponse:
        t = staff_translator(lang)
        return render(request, "error.html", lang, {"title": t(title_key), "message": message}, status, staff)

    def to_login(lang: str) -> Response:
        return private(RedirectResponse(f"{LOGIN}?lang={lang}", status_code=303))

    def deny(request: Request, why: str, staff: session.StaffSession | None = None) -> None:
        """Audit a refused staff action (the reason, never a token or a form value)."""
        audit.record(ctx.engine, channel="admin", operation=f"{request.method} {request.url.path}"[:100], outcome="denied",
                     actor=staff.actor if staff else None, identity=identity_of(request), detail=why)
        log.warning("staff request refused: %s %s: %s", request.method, request.url.path, why)

    def certificate_admin(request: Request) -> Admin | None:
        if request.headers.get("authorization"):
            return None
        admin, _ = authenticate(request, ctx.settings, ctx.engine)
        return admin if admin is not None and admin.method == "certificate" else None

    # ------------------------------------------------------------------ login and logout
    @app.get(LOGIN, response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request) -> Response:
        lang = language(request)
        staff = current(request)
        if staff is not None:
            return private(RedirectResponse(f"{PREVIEW}?lang={lang}", status_code=303))
        cert = certificate_admin(request)
        return render(request, "staff/login.html", lang, {"cert_name": cert.name if cert else None, "failed": None})

    @app.post(LOGIN, include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await _form(request)
        lang = form.get("lang") if form.get("lang") in ("sv", "en") else language(request)
        return await run_in_threadpool(login_sync, request, form, lang)

    def login_sync(request: Request, form: dict[str, str], lang: str) -> Response:
        t = staff_translator(lang)
        address = request.client.host if request.client else "?"
        if not session.same_origin(request):
            deny(request, "login from another site")
            return error(request, lang, 403, "error_403_title", t("error_csrf"))
        if failures.blocked(address):
            deny(request, "too many failed logins from this address")
            return private(error(request, lang, 429, "error_429_title", t("login_throttled")))
        if form.get("metod") == "certifikat":
            admin, why = (certificate_admin(request), "")
            why = "" if admin else "no admin certificate"
        else:
            token = form.get("token", "").strip()
            admin, why = check_token(token, ctx.settings, ctx.engine) if token else (None, "no token given")
        if admin is None:
            failures.failed(address)
            deny(request, f"login failed: {why}")
            return render(request, "staff/login.html", lang, {"cert_name": None, "failed": t("login_failed")}, 401)
        staff, value = session.issue(key(), admin.name, admin.method)
        audit.record(ctx.engine, channel="admin", operation=f"POST {LOGIN}", outcome="ok", actor=staff.actor,
                     identity=identity_of(request), detail="staff login")
        response = private(RedirectResponse(f"{PREVIEW}?lang={lang}", status_code=303))
        session.set_cookie(response, request, value)
        return response

    @app.post("/personal/logga-ut", include_in_schema=False)
    async def logout(request: Request) -> Response:
        form = await _form(request)
        lang = form.get("lang") if form.get("lang") in ("sv", "en") else language(request)
        staff = current(request)
        if staff is None:
            return to_login(lang)
        if not session.same_origin(request) or not session.csrf_ok(key(), staff, form.get("csrf")):
            await run_in_threadpool(deny, request, "logout without a valid CSRF token", staff)
            return error(request, lang, 403, "error_403_title", staff_translator(lang)("error_csrf"), staff)
        response = to_login(lang)
        session.clear_cookie(response, request)
        return response

    # ------------------------------------------------------------------ approving from the preview
    @app.post("/personal/godkann/{batch_id}", include_in_schema=False)
    async def approve(request: Request, batch_id: str) -> Response:
        form = await _form(request)
        lang = form.get("lang") if form.get("lang") in ("sv", "en") else language(request)
        return await run_in_threadpool(approve_sync, request, batch_id, form, lang)

    def approve_sync(request: Request, batch_id: str, form: dict[str, str], lang: str) -> Response:
        t = staff_translator(lang)
        staff = current(request)
        if staff is None:
            deny(request, "approval without a staff session")
            return error(request, lang, 403, "error_403_title", t("error_csrf"))
        if not session.same_origin(request) or not session.csrf_ok(key(), staff, form.get("csrf")):
            deny(request, "approval without a valid CSRF token", staff)
            return error(request, lang, 403, "error_403_title", t("error_csrf"), staff)
        try:
            _, publik = pages.audience_of(form.get("publik", ""))
        except PageError:
            publik = "allman"
        if not (batch_id.isascii() and batch_id.isdigit()) or not 1 <= int(batch_id) <= 2**62:
            return error(request, lang, 404, "error_404_title", t("error_404_text"), staff)
        request.state.admin = Admin(staff.name, staff.method)  # the audit row's actor
        admin_audit.begin(request, "")
        try:
            admin_audit.write(ctx.engine, lambda conn: control.approve_batch(
                conn, int(batch_id), actor=staff.actor, reason=APPROVE_REASON,
                default_threshold=ctx.settings.default_display_threshold))
        except PublishError as exc:
            deny(request, f"approval refused: {exc.code}", staff)
            status = 404 if exc.code.endswith("NOT_FOUND") else 409
            return error(request, lang, status, "error_403_title", exc.text(lang), staff)
        query = urlencode({"publik": publik, "lang": lang, "godkand": batch_id})
        return private(RedirectResponse(f"{PREVIEW}?{query}", status_code=303))

    # ------------------------------------------------------------------ the preview pages
    def page(handler):
        def run(request: Request, *args: str) -> Response:
            lang = language(request)
            staff = current(request)
            if staff is None:
                return to_login(lang)
            try:
                return handler(request, lang, staff, *args)
            except PageError as exc:
                t = staff_translator(lang)
                title = "error_404_title" if exc.status == 404 else "error_400_title"
                return error(request, lang, exc.status, title, t(exc.message_key, **exc.values), staff)

        return run

    @app.get(PREVIEW, response_class=HTMLResponse, include_in_schema=False)
    def preview_list(request: Request) -> Response:
        return page(lambda req, lang, staff: render(req, "staff/preview.html", lang, pages.list_context(ctx, req, lang), staff=staff))(request)

    @app.get(PREVIEW + "/{measure_id}", response_class=HTMLResponse, include_in_schema=False)
    def preview_indicator(request: Request, measure_id: str) -> Response:
        return page(lambda req, lang, staff, mid: render(req, "indicator.html", lang, pages.indicator_context(ctx, req, lang, mid),
                                                         staff=staff))(request, measure_id)


__all__ = ["mount"]
