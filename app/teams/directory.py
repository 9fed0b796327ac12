"""Who is in which team and which rules route, as the file and the admin UI say together.

The config file is the source for its own teams, members and rules (fixed: change the file);
the database holds what the admin UI added on top (app/core/team_tables.py): teams, members of
any team, and rules that come after the file's. Single sign-on adds the teams its claim named
(users.oidc_teams). Nothing from the file is copied into the database, so there is nothing to
keep in step."""
from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import Config
from app.core.models import RoutingRuleRow, Team, TeamMember, User
from app.core.prepared import core_rows
from app.teams.rules import Router
from app.teams.settings import RoutingRule


@dataclass(frozen=True)
class Member:
    username: str
    from_file: bool   # listed in [[teams]]: removed by editing the file, not in the UI


async def ui_rules(session: AsyncSession) -> list[tuple[int, RoutingRule]]:
    """The admin UI's rules, in their order, with their row ids. A row the current code no
    longer accepts is left out rather than routing wrongly."""
    found = []
    for row in await session.exec(select(RoutingRuleRow).order_by(col(RoutingRuleRow.position),
                                                                   col(RoutingRuleRow.id))):
        try:
            found.append((row.id or 0, RoutingRule.model_validate(row.rule)))
        except ValidationError:
            continue
    return found


async def router(session: AsyncSession, config: Config) -> Router:
    """The rules in force: the file's, then the UI's; first match wins."""
    rules = [*config.routing, *(rule for _, rule in await ui_rules(session))]
    return Router.of(rules, config.author_lists, config.default_team)


# Built once: every dashboard and live update of the queue reads the teams (its tabs).
_UI_TEAMS = select(col(Team.name)).order_by(col(Team.name))
_TEAMS_OF = select(col(TeamMember.team)).where(col(TeamMember.username) == bindparam("username"))


async def team_names(session: AsyncSession, config: Config) -> list[str]:
    """Every team: the file's in its order, then the UI's alphabetically."""
    names = [t.name for t in config.teams]
    made = [name for name, in await core_rows(session, _UI_TEAMS)]
    return names + [n for n in made if n not in names]


async def members(session: AsyncSession, config: Config, team: str) -> list[Member]:
    """The team's members (usernames), whether or not such a user exists yet."""
    from_file = next((t.members for t in config.teams if t.name == team), ())
    found = {name: Member(name, True) for name in from_file}
    for name in (await session.exec(select(TeamMember.username).where(TeamMember.team == team))).all():
        found.setdefault(name, Member(name, False))
    for user in (await session.exec(select(User).where(col(User.oidc_teams).is_not(None)))).all():
        if team in (user.oidc_teams or []):
            found.setdefault(user.username, Member(user.username, False))
    return sorted(found.values(), key=lambda m: m.username)


async def teams_of(session: AsyncSession, config: Config, user: User) -> list[str]:
    """The teams `user` belongs to, in the order of team_names."""
    mine = {t.name for t in config.teams if user.username in t.members}
    mine |= {team for team, in await core_rows(session, _TEAMS_OF, {"username": user.username})}
    mine |= set(user.oidc_teams or [])
    return [name for name in await team_names(session, config) if name in mine]


async def teams_by_member(session: AsyncSession, config: Config) -> dict[str, list[str]]:
    """Each member's teams (usernames to team names, in the order of team_names)."""
    found: dict[str, list[str]] = {}
    for team in await team_names(session, config):
        for member in await members(session, config, team):
            found.setdefault(member.username, []).append(team)
    return found
