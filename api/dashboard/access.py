"""Who a dashboard request acts for: the session's user and active business (CONTRACT §2, §5).

Check order: an API key on a dashboard route (401) → session (401) → CSRF on writes (403) →
active business (400) → membership (403). Routes then check the team permission (403) and the
plan (403) before reading the body, as the v1 create does.
"""

from __future__ import annotations

from dataclasses import dataclass

from anyio import to_thread
from sqlalchemy import select
from starlette.requests import Request

from api.access import KEY_HEADER, PlanInfo, Principal, team_permissions
from api.credits.rules import require_video_plan
from api.dashboard.csrf import check_origin
from api.dashboard.sessions import SessionInfo, SessionStore
from api.db.engine import Database
from api.db.models import SCOPES, Business, Plan
from api.errors import Forbidden, MissingActiveBusiness, Unauthorized


@dataclass(frozen=True)
class DashboardCaller:
    session: SessionInfo
    principal: Principal


def refuse_api_keys(request: Request) -> None:
    if KEY_HEADER in request.headers:
        raise Unauthorized(
            "API keys are not accepted on dashboard routes; sign in with POST /api/auth/session"
        )


def load_session(request: Request, *, write: bool) -> SessionInfo:
    """The request's session (blocking: call from a worker thread), CSRF-checked for writes."""
    services = request.app.state.services
    info: SessionInfo = services.sessions.load(
        request.cookies.get(services.settings.session_cookie_name)
    )
    if write:
        check_origin(request.method, request.headers, services.settings.allowed_origins)
    return info


def business_principal(database: Database, info: SessionInfo) -> Principal:
    """The principal for the session's active business: 400 without one, 403 for a business
    the user no longer owns or belongs to."""
    if info.active_business_id is None:
        raise MissingActiveBusiness("choose a business first (POST /api/auth/active-business)")
    with database.session() as session:
        found = session.execute(
            select(Business, Plan)
            .join(Plan, Plan.id == Business.plan_id)
            .where(Business.id == info.active_business_id)
        ).one_or_none()
        if found is None:
            raise MissingActiveBusiness("the active business no longer exists")
        business, plan = found
        permissions = None
        if business.owner_team_id is not None:
            permissions = team_permissions(session, business.owner_team_id, info.user_id)
            if permissions is None:
                raise Forbidden("you are not a member of the team that owns this business")
        elif business.owner_user_id != info.user_id:
            raise Forbidden("you do not own this business")
    if not business.active:
        raise MissingActiveBusiness("the active business is not active")
    return Principal(
        user_id=info.user_id,
        business_id=business.id,
        business_active=business.active,
        plan=PlanInfo.of(plan),
        scopes=frozenset(SCOPES),
        team_id=business.owner_team_id,
        permissions=permissions,
    )


async def dashboard_caller(request: Request, *, write: bool) -> DashboardCaller:
    refuse_api_keys(request)
    services = request.app.state.services

    def load() -> DashboardCaller:
        info = load_session(request, write=write)
        return DashboardCaller(info, business_principal(services.db, info))

    return await to_thread.run_sync(load)


def require_creator(principal: Principal) -> None:
    """Creating videos, captions or composites: the team permission, then the plan."""
    if principal.permissions is not None and "create_video" not in principal.permissions:
        raise Forbidden("your team role lacks the create_video permission")
    require_video_plan(principal.plan.monthly_video_credits)


__all__ = [
    "DashboardCaller",
    "SessionStore",
    "business_principal",
    "dashboard_caller",
    "load_session",
    "refuse_api_keys",
    "require_creator",
]
