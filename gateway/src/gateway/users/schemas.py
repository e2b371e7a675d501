"""What the users and login routes take and answer."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from gateway.access.policy import Role

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=3,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+$",
    ),
]
Password = Annotated[str, Field(min_length=1, max_length=1024)]
NewPassword = Annotated[str, Field(min_length=10, max_length=1024)]
RefreshToken = Annotated[str, Field(min_length=1, max_length=200)]


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email
    password: Password


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: RefreshToken


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str
    role: Role


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email
    password: NewPassword
    role: Role


class OwnerIn(BaseModel):
    """The first owner, made on the first run."""

    model_config = ConfigDict(extra="forbid")
    email: Email
    password: NewPassword


class BootstrapState(BaseModel):
    needed: bool


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: NewPassword | None = None
    role: Role | None = None
    disabled: bool | None = None


class UserOut(BaseModel):
    id: str
    email: str
    role: Role
    disabled: bool
    created_at: dt.datetime


class Me(BaseModel):
    id: str
    role: Role
