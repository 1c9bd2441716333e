"""Who may call what: a bearer token per request, the permission each endpoint declares.

Deny by default, as the web UI: an endpoint of the API that declares no permission with
:func:`requires` (or is not :func:`documentation`) answers 403 to every token. The role
behind a token maps to permissions through the web's own table
(:data:`webapp.web.access.ROLE_PERMISSIONS`), so a person and their tokens may do the
same things. The web session is never accepted for the API's data (no CSRF exposure);
only the documentation may be read by a signed-in person.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_login import current_user
from flask_smorest import abort

from webapp.api import tokens
from webapp.database import db
from webapp.models import ApiToken, StaffUser
from webapp.scope import Scope, scope_of
from webapp.web.access import ROLE_PERMISSIONS, Permission

View = TypeVar("View", bound=Callable[..., Any])
_PERMISSION = "_api_permission"
_DOCUMENTATION = "_api_documentation"
#: ``app.extensions`` key: names of the API's blueprints.
BLUEPRINTS = "custclass.api_blueprints"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="custclass"'}


def requires(permission: Permission) -> Callable[[View], View]:
    """Mark an endpoint as needing ``permission``; :func:`check_api_access` enforces it."""
    def mark(view: View) -> View:
        setattr(view, _PERMISSION, permission)
        return view
    return mark


def documentation(view: View) -> View:
    """Mark a view of the API's documentation: any valid token, or a signed-in person."""
    setattr(view, _DOCUMENTATION, True)
    return view


def required_permission(view: Callable[..., Any]) -> Permission | None:
    return getattr(view, _PERMISSION, None)


def check_api_access() -> Any:
    """``before_request`` hook of the API's blueprints: a live token, then the
    endpoint's permission, else 401 / 403 (JSON)."""
    if request.blueprint not in current_app.extensions.get(BLUEPRINTS, ()) \
            or request.endpoint is None:
        return None
    request.max_content_length = current_app.config["API_MAX_BODY_BYTES"]
    if request.content_length is not None \
            and request.content_length > request.max_content_length:
        abort(413, message=f"the body is larger than {request.max_content_length} bytes")
    view = current_app.view_functions[request.endpoint]
    if getattr(view, _DOCUMENTATION, False) and current_user.is_authenticated:
        return None
    secret = tokens.bearer_secret(request.headers.get("Authorization"))
    if secret is None:
        if getattr(view, _DOCUMENTATION, False) and request.accept_mimetypes.accept_html:
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        abort(401, message="send an API token: Authorization: Bearer <token>",
              headers=CHALLENGE)
    found = tokens.authenticate(db.session, secret, datetime.now(UTC))
    if found is None:
        abort(401, message="the token is unknown, revoked, or its account is deactivated",
              headers=CHALLENGE)
    db.session.commit()  # the token's last use
    g.api_token, g.api_user = found
    if getattr(view, _DOCUMENTATION, False):
        return None
    permission = required_permission(view)
    if permission is None or permission not in ROLE_PERMISSIONS[g.api_user.role]:
        abort(403, message=f"the token's role ({g.api_user.role.value}) may not do this")
    return None


def caller() -> StaffUser:
    """The staff member the request's token acts as."""
    return g.api_user


def caller_token() -> ApiToken:
    return g.api_token


def caller_scope() -> Scope:
    """The caller's org scope (computed once per request)."""
    if "api_scope" not in g:
        g.api_scope = scope_of(db.session.connection(), caller())
    return g.api_scope
