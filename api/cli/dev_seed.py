"""``neariq dev-seed``: a dev plan, user, business and key for a local run, printed."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sqlalchemy import select

from api.cli._common import admin
from api.db.models import Business, User

DEV_EMAIL = "dev@neariq.local"
DEV_PASSWORD = "neariq-dev"


def register(commands: Any) -> None:
    parser = commands.add_parser("dev-seed", help="create a dev account and key (local runs)")
    parser.add_argument("--credits", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run, name="dev-seed")


def run(args: argparse.Namespace) -> int:
    actions, db = admin()
    with db.session() as session:
        user_id = session.scalar(select(User.id).where(User.email == DEV_EMAIL))
        business_id = session.scalar(
            select(Business.id).where(Business.owner_user_id == user_id, Business.name == "Dev Gym")
        )
    if user_id is None:
        actions.create_plan("dev", args.credits, watermark=False, premium_narration=True)
        actions.create_user(DEV_EMAIL, DEV_PASSWORD, name="Dev")
    if business_id is None:
        business_id = actions.create_business("Dev Gym", plan="dev", owner_email=DEV_EMAIL)
    key = actions.create_key(DEV_EMAIL, business_id, name="dev-seed")
    data = {
        "email": DEV_EMAIL,
        "password": DEV_PASSWORD,
        "businessId": business_id,
        "key": key.key,
    }
    if args.json:
        print(json.dumps(data))
    else:
        print(f"user      {DEV_EMAIL} / {DEV_PASSWORD}")
        print(f"business  {business_id}")
        print(f"key       {key.key}")
    return 0
