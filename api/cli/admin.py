"""``neariq admin ...``: plans, users, teams, businesses, keys and usage."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from api.cli._common import admin, emit
from api.clock import SystemClock
from api.credits.ledger import Ledger
from api.db.models import PERMISSIONS, SCOPES, Business, Plan


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def register(commands: Any) -> None:
    parser = commands.add_parser("admin", help="manage plans, accounts, businesses and keys")
    sub = parser.add_subparsers(dest="admin_command", required=True, metavar="ACTION")

    plan = sub.add_parser("create-plan", help="a plan with monthly video credits")
    plan.add_argument("name")
    plan.add_argument("--credits", type=int, required=True, help="monthly video credits (0: none)")
    plan.add_argument("--watermark", action=argparse.BooleanOptionalAction, default=True)
    plan.add_argument("--premium-narration", action=argparse.BooleanOptionalAction, default=False)
    plan.add_argument("--overlays", type=_csv, default=["voice", "music", "text"],
                      help="comma-separated: voice,music,text")  # fmt: skip
    plan.set_defaults(handler=create_plan)

    user = sub.add_parser("create-user", help="a user (password asked, or --password-stdin)")
    user.add_argument("email")
    user.add_argument("--name", default="")
    user.add_argument("--password-stdin", action="store_true")
    user.set_defaults(handler=create_user)

    team = sub.add_parser("create-team", help="a team workspace")
    team.add_argument("name")
    team.add_argument("--owner", help="email of the owner (gets every permission)")
    team.set_defaults(handler=create_team)

    member = sub.add_parser("add-member", help="add (or update) a team member")
    member.add_argument("team", help="team id or name")
    member.add_argument("email")
    member.add_argument("--role", default="member")
    member.add_argument(
        "--permissions",
        type=_csv,
        default=["create_video"],
        help=f"comma-separated among {','.join(PERMISSIONS)} (may be empty)",
    )
    member.set_defaults(handler=add_member)

    business = sub.add_parser("create-business", help="a business owned by a user or a team")
    business.add_argument("name")
    business.add_argument("--plan", required=True)
    owner = business.add_mutually_exclusive_group(required=True)
    owner.add_argument("--owner", help="owner's email")
    owner.add_argument("--team", help="owning team id or name")
    business.add_argument("--inactive", action="store_true")
    business.set_defaults(handler=create_business)

    key = sub.add_parser("create-key", help="an API key (printed once)")
    key.add_argument("email")
    key.add_argument("business", help="business id")
    key.add_argument("--scopes", type=_csv, default=list(SCOPES))
    key.add_argument("--name", default="")
    key.set_defaults(handler=create_key)

    revoke = sub.add_parser("revoke-key", help="revoke a key by id or visible prefix")
    revoke.add_argument("key")
    revoke.set_defaults(handler=revoke_key)

    usage = sub.add_parser("usage", help="this month's credits of a business")
    usage.add_argument("business", help="business id")
    usage.set_defaults(handler=show_usage)

    for action in sub.choices.values():
        action.add_argument("--json", action="store_true", help="machine-readable output")


def create_plan(args: argparse.Namespace) -> int:
    actions, _db = admin()
    plan_id = actions.create_plan(
        args.name,
        args.credits,
        watermark=args.watermark,
        premium_narration=args.premium_narration,
        overlays=args.overlays,
    )
    emit({"id": plan_id, "name": args.name}, args.json, f"plan {args.name} ({plan_id})")
    return 0


def create_user(args: argparse.Namespace) -> int:
    actions, _db = admin()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
    user_id = actions.create_user(args.email, password, name=args.name)
    emit({"id": user_id, "email": args.email}, args.json, f"user {args.email} ({user_id})")
    return 0


def create_team(args: argparse.Namespace) -> int:
    actions, _db = admin()
    team_id = actions.create_team(args.name, owner_email=args.owner)
    emit({"id": team_id, "name": args.name}, args.json, f"team {args.name} ({team_id})")
    return 0


def add_member(args: argparse.Namespace) -> int:
    actions, _db = admin()
    actions.add_member(args.team, args.email, role=args.role, permissions=args.permissions)
    emit(
        {"team": args.team, "email": args.email, "permissions": args.permissions},
        args.json,
        f"{args.email} in {args.team}: {','.join(args.permissions) or 'no permissions'}",
    )
    return 0


def create_business(args: argparse.Namespace) -> int:
    actions, _db = admin()
    business_id = actions.create_business(
        args.name, plan=args.plan, owner_email=args.owner, team=args.team, active=not args.inactive
    )
    emit({"id": business_id, "name": args.name}, args.json, f"business {args.name} ({business_id})")
    return 0


def create_key(args: argparse.Namespace) -> int:
    actions, _db = admin()
    created = actions.create_key(args.email, args.business, scopes=args.scopes, name=args.name)
    emit(
        {"id": created.id, "key": created.key, "prefix": created.prefix,
         "scopes": list(created.scopes)},
        args.json,
        f"{created.key}\n(key {created.id}, scopes {','.join(created.scopes)}; "
        "shown once: store it now)",
    )  # fmt: skip
    return 0


def revoke_key(args: argparse.Namespace) -> int:
    actions, _db = admin()
    key_id = actions.revoke_key(args.key)
    emit({"id": key_id, "revoked": True}, args.json, f"revoked {key_id}")
    return 0


def show_usage(args: argparse.Namespace) -> int:
    _actions, db = admin()
    with db.session() as session:
        found = session.get(Business, args.business)
        if found is None:
            from api.accounts.admin import AdminError

            raise AdminError(f"no business {args.business!r}")
        plan = session.get_one(Plan, found.plan_id)
        limit, plan_name = plan.monthly_video_credits, plan.name
    usage = Ledger(db, SystemClock()).usage(args.business, limit)
    emit(
        {"business": args.business, "plan": plan_name, "used": usage.used, "held": usage.held,
         "limit": usage.limit},
        args.json,
        f"{args.business} ({plan_name}): {usage.used} used, {usage.held} held, "
        f"limit {usage.limit} this month",
    )  # fmt: skip
    return 0
