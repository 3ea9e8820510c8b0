"""Structured Field Values (RFC 8941): just what signatures and digests need.

RFC 9421's Signature-Input and Signature, and Content-Digest, are Dictionary fields; the
signature base re-serializes their members, so both directions live here.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from typing import TypeAlias

__all__ = [
    "Bare",
    "DictMember",
    "Member",
    "Params",
    "Token",
    "parse_dictionary",
    "serialize_bare",
    "serialize_dictionary",
    "serialize_inner_list",
    "serialize_item",
]


class Token(str):
    """A Structured Field token (serialized bare, unlike a string)."""


Bare: TypeAlias = bool | int | float | str | bytes
Params: TypeAlias = dict[str, Bare]
Member: TypeAlias = tuple[Bare, Params]
DictMember: TypeAlias = tuple["Bare | list[Member]", Params]

_SF_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_SF_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_SF_NUMBER = re.compile(r"-?(\d{1,15})(\.\d{1,3})?")
_SF_BYTES = re.compile(r":([A-Za-z0-9+/=]*):")


def parse_dictionary(text: str) -> dict[str, DictMember]:
    """Parse a Dictionary field strictly; raises ValueError with the reason."""
    return _Parser(text).dictionary()


class _Parser:
    """A strict RFC 8941 parser for Dictionary fields."""

    def __init__(self, text: str) -> None:
        self.text = text.strip(" \t")
        self.pos = 0

    def dictionary(self) -> dict[str, DictMember]:
        result: dict[str, DictMember] = {}
        while self.pos < len(self.text):
            key = self._match(_SF_KEY, "a key").group(0)
            if key in result:  # RFC 8941 keeps the last; for signatures that is ambiguous
                raise ValueError(f"duplicate key {key}")
            if self._peek() == "=":
                self.pos += 1
                result[key] = self._member()
            else:
                result[key] = (True, self._params())
            self._skip(" \t")
            if self.pos < len(self.text):
                self._expect(",")
                self._skip(" \t")
                if self.pos == len(self.text):
                    raise ValueError("trailing comma")
        return result

    def _member(self) -> DictMember:
        if self._peek() != "(":
            return self._bare(), self._params()
        self.pos += 1
        items: list[Member] = []
        while True:
            self._skip(" ")
            if self._peek() == ")":
                self.pos += 1
                return items, self._params()
            items.append((self._bare(), self._params()))
            if self._peek() not in (" ", ")"):
                raise ValueError("bad inner list")

    def _params(self) -> Params:
        params: Params = {}
        while self._peek() == ";":
            self.pos += 1
            self._skip(" ")
            key = self._match(_SF_KEY, "a parameter key").group(0)
            value: Bare = True
            if self._peek() == "=":
                self.pos += 1
                value = self._bare()
            params[key] = value
        return params

    def _bare(self) -> Bare:
        char = self._peek()
        if char == '"':
            return self._string()
        if char == ":":
            return base64.b64decode(self._match(_SF_BYTES, "bytes").group(1), validate=True)
        if char == "?":
            flag = self.text[self.pos : self.pos + 2]
            if flag not in ("?0", "?1"):
                raise ValueError("bad boolean")
            self.pos += 2
            return flag == "?1"
        if char == "-" or char.isdigit():
            number = self._match(_SF_NUMBER, "a number").group(0)
            return float(number) if "." in number else int(number)
        return Token(self._match(_SF_TOKEN, "an item").group(0))

    def _string(self) -> str:
        self.pos += 1
        out = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\":
                escaped = self.text[self.pos : self.pos + 1]
                if escaped not in ('"', "\\"):
                    raise ValueError("bad escape in string")
                out.append(escaped)
                self.pos += 1
            elif char == '"':
                return "".join(out)
            elif not " " <= char <= "~":
                raise ValueError("bad character in string")
            else:
                out.append(char)
        raise ValueError("unterminated string")

    def _peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def _skip(self, chars: str) -> None:
        while self._peek() and self._peek() in chars:
            self.pos += 1

    def _expect(self, char: str) -> None:
        if self._peek() != char:
            raise ValueError(f"expected {char!r} at {self.pos}")
        self.pos += 1

    def _match(self, pattern: re.Pattern[str], what: str) -> re.Match[str]:
        match = pattern.match(self.text, self.pos)
        if match is None:
            raise ValueError(f"expected {what} at {self.pos}")
        self.pos = match.end()
        return match


def serialize_bare(value: Bare) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = f"{value:.3f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(value, bytes):
        return f":{base64.b64encode(value).decode('ascii')}:"
    if isinstance(value, Token):
        return str(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _serialize_params(params: Params) -> str:
    return "".join(
        f";{key}" if value is True else f";{key}={serialize_bare(value)}"
        for key, value in params.items()
    )


def serialize_item(value: Bare, params: Params) -> str:
    return serialize_bare(value) + _serialize_params(params)


def serialize_inner_list(items: Sequence[Member], params: Params) -> str:
    inner = " ".join(serialize_item(value, item_params) for value, item_params in items)
    return f"({inner}){_serialize_params(params)}"


def serialize_dictionary(members: Mapping[str, DictMember]) -> str:
    parts = []
    for key, (value, params) in members.items():
        if isinstance(value, list):
            parts.append(f"{key}={serialize_inner_list(value, params)}")
        elif value is True:
            parts.append(key + _serialize_params(params))
        else:
            parts.append(f"{key}={serialize_item(value, params)}")
    return ", ".join(parts)
