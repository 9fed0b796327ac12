"""What the teams admin page and API change and show: teams, members and routing rules made
in the UI (the config file's stay as the file says, app/teams/directory.py), and each team's
members with their availability and what they hold."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import Config
from app.core.errors import Conflict, Invalid, NotFound
from app.core.models import RoutingRuleRow, Team, TeamMember, User
from app.teams import directory
from app.teams.assignment import in_hand
from app.teams.availability import shown
from app.teams.settings import ROUND_ROBIN, RoutingRule, TeamConfig

NAME_HINT = "lower-case letters, digits, - and _ (up to 63)"


def _checked_name(name: str) -> str:
    name = name.strip().lower()
    try:
        TeamConfig(name=name)
    except ValidationError:
        raise Invalid(f"a team name is {NAME_HINT}") from None
    return name


async def create_team(session: AsyncSession, config: Config, name: str, who: str, now: datetime) -> str:
    name = _checked_name(name)
    if name in await directory.team_names(session, config):
        raise Conflict(f"there is a team {name!r} already")
    session.add(Team(name=name, created_by=who, created_at=now))
    await session.flush()
    return name


async def delete_team(session: AsyncSession, config: Config, name: str) -> None:
    """A team made in the UI, with its UI memberships; its mentions keep the name (history)."""
    if name in {t.name for t in config.teams}:
        raise Conflict(f"{name} is in the config file: remove it there")
    team = (await session.exec(select(Team).where(Team.name == name))).first()
    if team is None:
        raise NotFound("no such team")
    if any(rule.team == name for _, rule in await directory.ui_rules(session)):
        raise Conflict(f"a routing rule sends mentions to {name}: delete that rule first")
    await session.exec(delete(TeamMember).where(col(TeamMember.team) == name))
    await session.delete(team)


async def move_rule(session: AsyncSession, rule_id: int, up: bool) -> None:
    """Swap a UI rule with its neighbour (the file's rules always come first)."""
    rows = list((await session.exec(select(RoutingRuleRow).order_by(col(RoutingRuleRow.position),
                                                                     col(RoutingRuleRow.id)))).all())
    at = next((i for i, row in enumerate(rows) if row.id == rule_id), None)
    if at is None:
        raise NotFound("no such routing rule (the config file's rules are changed in the file)")
    other = at - 1 if up else at + 1
    if 0 <= other < len(rows):
        rows[at], rows[other] = rows[other], rows[at]
        for position, row in enumerate(rows, 1):
            row.position = position
        await session.flush()


async def _known_team(session: AsyncSession, config: Config, team: str) -> None:
    if team not in await directory.team_names(session, config):
        raise NotFound("no such team")


async def add_member(session: AsyncSession, config: Config, team: str, username: str, who: str,
                     now: datetime) -> None:
    await _known_team(session, config, team)
    user = (await session.exec(select(User).where(User.username == username.strip()))).first()
    if user is None or user.disabled:
        raise Invalid(f"no active user named {username.strip()!r}")
    if user.username in {m.username for m in await directory.members(session, config, team)}:
        raise Conflict(f"{user.username} is in {team} already")
    session.add(TeamMember(team=team, username=user.username, created_by=who, created_at=now))
    await session.flush()


async def remove_member(session: AsyncSession, config: Config, team: str, username: str) -> None:
    await _known_team(session, config, team)
    found = await session.exec(delete(TeamMember).where(col(TeamMember.team) == team,
                                                        col(TeamMember.username) == username))
    if found.rowcount == 0:
        if any(m.username == username and m.from_file for m in await directory.members(session, config, team)):
            raise Conflict(f"{username} is a member in the config file: remove them there")
        raise NotFound(f"{username} is not in {team}")


async def add_rule(session: AsyncSession, config: Config, fields: dict[str, Any], who: str,
                   now: datetime) -> RoutingRuleRow:
    """A rule after all others (the file's first, then the UI's in the order they were added)."""
    try:
        rule = RoutingRule.model_validate(fields)
    except ValidationError as exc:
        raise Invalid("; ".join(f"{'.'.join(map(str, e['loc'])) or 'rule'}: {e['msg'].removeprefix('Value error, ')}"
                                for e in exc.errors())) from None
    names = await directory.team_names(session, config)
    if rule.team is not None and rule.team not in names:
        raise Invalid(f"no team named {rule.team!r}")
    lists = {a.name for a in config.author_lists}
    if missing := [a for a in rule.authors if a not in lists]:
        raise Invalid(f"no author list named {', '.join(map(repr, missing))}")
    if rule.assign not in (None, ROUND_ROBIN):
        person = (await session.exec(select(User).where(User.username == rule.assign))).first()
        if person is None or person.disabled:
            raise Invalid(f"assign: no active user named {rule.assign!r} (or \"{ROUND_ROBIN}\")")
    last = (await session.exec(select(func.max(RoutingRuleRow.position)))).one() or 0
    row = RoutingRuleRow(position=last + 1, rule=rule.model_dump(exclude_defaults=True), created_by=who,
                         created_at=now)
    session.add(row)
    await session.flush()
    return row


async def delete_rule(session: AsyncSession, rule_id: int) -> None:
    row = await session.get(RoutingRuleRow, rule_id)
    if row is None:
        raise NotFound("no such routing rule (the config file's rules are changed in the file)")
    await session.delete(row)


async def overview(session: AsyncSession, config: Config, now: datetime) -> dict[str, Any]:
    """Every team with its members (availability, mentions in hand), and the rules in order."""
    away_after = timedelta(minutes=config.replies.away_after_idle_minutes)
    file_teams = {t.name for t in config.teams}
    teams = []
    for name in await directory.team_names(session, config):
        found = await directory.members(session, config, name)
        users = {u.username: u for u in (await session.exec(
            select(User).where(col(User.username).in_([m.username for m in found])))).all()}
        loads = await in_hand(session, list(users), now)
        teams.append({"name": name, "from_file": name in file_teams, "default": name == config.default_team,
                      "members": [{"username": m.username, "from_file": m.from_file,
                                   "availability": shown(users[m.username], now, away_after)
                                   if m.username in users else "no_account",
                                   "in_hand": loads.get(m.username, 0)} for m in found]})
    rules = [{"id": None, "position": n, "from_file": True, **rule.model_dump()}
             for n, rule in enumerate(config.routing, 1)]
    rules += [{"id": row_id, "position": len(rules) + n, "from_file": False, **rule.model_dump()}
              for n, (row_id, rule) in enumerate(await directory.ui_rules(session), 1)]
    return {"teams": teams, "rules": rules, "default_team": config.default_team,
            "author_lists": [a.name for a in config.author_lists]}
