"""Planhat user and end user ids as the names a reader knows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from target_dust.render.values import free_text


class Names:
    """Resolves the user and end user ids that records point at."""

    def __init__(
        self, users: Mapping[str, Mapping[str, Any]], endusers: list[Mapping[str, Any]]
    ) -> None:
        self._users = users
        self._endusers = {str(record.get("_id")): record for record in endusers}

    def user(self, user_id: Any) -> str | None:
        user = self._users.get(str(user_id)) if user_id else None
        return _user_name(user) if user else None

    def owner(self, owner: Any) -> str | None:
        """An owner id or `{_id, nickName}`; an id nobody can resolve is left out."""
        if isinstance(owner, Mapping):
            return self.user(owner.get("_id") or owner.get("id")) or free_text(
                owner.get("nickName")
            )
        return self.user(owner)

    def team(self, conversation: Mapping[str, Any]) -> str | None:
        """Our side of a conversation: the Planhat users in it."""
        names = []
        for user in _listed(conversation.get("users")):
            if isinstance(user, Mapping):
                names.append(free_text(user.get("name")) or self.user(user.get("id")))
            else:
                names.append(self.user(user))
        return _joined(names)

    def contacts(self, conversation: Mapping[str, Any]) -> str | None:
        """The customer's side of a conversation: its end users."""
        names = []
        for enduser in _listed(conversation.get("endusers")):
            if isinstance(enduser, Mapping):
                names.append(free_text(enduser.get("name")) or self.enduser(enduser.get("id")))
            else:
                names.append(self.enduser(enduser))
        return _joined(names)

    def respondent(self, answer: Mapping[str, Any]) -> str | None:
        name = self.enduser(answer.get("euId"))
        email = free_text(answer.get("email"))
        if name and email and email != name:
            return f"{name} ({email})"
        return name or email

    def enduser(self, enduser_id: Any) -> str | None:
        record = self._endusers.get(str(enduser_id)) if enduser_id else None
        return enduser_name(record) if record else None


def _joined(names: list[str | None]) -> str | None:
    unique = list(dict.fromkeys(name for name in names if name))
    return ", ".join(unique) or None


def _listed(value: Any) -> list:
    """The items of a list field; any other value holds none."""
    return value if isinstance(value, list) else []


def _person_name(person: Mapping[str, Any], preferred: str) -> str | None:
    """The `preferred` name field, else first + last name, else the email."""
    full = " ".join(
        filter(None, (free_text(person.get("firstName")), free_text(person.get("lastName"))))
    )
    return free_text(person.get(preferred)) or full or free_text(person.get("email"))


def _user_name(user: Mapping[str, Any]) -> str | None:
    return _person_name(user, "nickName")


def enduser_name(enduser: Mapping[str, Any]) -> str | None:
    """An end user as the company knows them: name, else first and last name, else email."""
    return _person_name(enduser, "name")
