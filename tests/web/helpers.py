"""Helpers of the web UI tests: requests isolated as in production, and HTML forms read
the way a browser submits them."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from flask import Flask, g
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse


class IsolatedClient(FlaskClient):
    """A test client whose every request starts with an empty ``flask.g``.

    The ``app`` fixture keeps one application context pushed for the whole test, and
    Flask reuses a pushed context for the requests made inside it, so ``g`` would carry
    over from request to request (and from client to client): Flask-Login's cached user,
    Flask-WTF's CSRF token, Flask-Babel's locale. In production every request has a
    context of its own; this client restores that.
    """

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        g.__dict__.clear()
        try:
            return super().open(*args, **kwargs)
        finally:
            g.__dict__.clear()


def isolated_requests(app: Flask) -> Iterator[None]:
    """Body of an autouse fixture: clients made meanwhile are :class:`IsolatedClient`."""
    saved = app.test_client_class
    app.test_client_class = IsolatedClient
    try:
        yield
    finally:
        app.test_client_class = saved


def redirect_target(response: TestResponse) -> tuple[str, dict[str, list[str]]]:
    """The path and query of a redirect's Location (which may be relative)."""
    assert response.status_code in (301, 302, 303, 307, 308), response.status_code
    location = urlsplit(response.headers["Location"])
    assert location.netloc in ("", "localhost"), response.headers["Location"]
    return location.path, parse_qs(location.query)


def sent_to_sign_in(response: TestResponse) -> bool:
    """Whether the response is the redirect to the sign-in page that Flask-Login answers
    to a person not signed in (it carries ``next``)."""
    if response.status_code != 302:
        return False
    path, query = redirect_target(response)
    return path == "/login" and "next" in query


def alerts(html: str) -> list[str]:
    """The flashed messages of a page, as text."""
    return [_text(message) for message in
            re.findall(r'<div class="alert [^"]*" role="alert">(.*?)</div>', html, re.S)]


def page_text(html: str) -> str:
    return _text(html)


def _text(html: str) -> str:
    collector = _TextCollector()
    collector.feed(html)
    return " ".join(" ".join(collector.parts).split())


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


@dataclass
class Form:
    """A form of a page: where it posts and the (name, value) pairs a browser sends, in
    document order. ``template`` holds the fields inside a ``<template>`` of the form,
    which a browser does not send (the page's script copies them to add a row)."""

    action: str
    fields: list[tuple[str, str]]
    template: list[tuple[str, str]] = field(default_factory=list)

    def get(self, name: str) -> str:
        values = [value for key, value in self.fields if key == name]
        assert len(values) == 1, f"{name}: {len(values)} fields"
        return values[0]

    def names(self) -> list[str]:
        return [key for key, _ in self.fields]

    def set(self, name: str, value: str) -> "Form":
        """Type ``value`` into field ``name`` (which must be on the page)."""
        assert name in self.names(), f"no field {name!r} in the form"
        self.fields = [(key, value if key == name else old) for key, old in self.fields]
        return self

    def data(self) -> MultiDict:
        return MultiDict(self.fields)


def find_form(html: str, *, form_id: str | None = None, action: str | None = None,
              base: str = "") -> Form:
    """The form with id ``form_id`` (or whose action attribute is ``action``, ``""`` when
    it has none) as a browser submits it: enabled named inputs (checked boxes only; no
    buttons or files), the selected option of each select (else its first), textareas'
    text. Its action is resolved against ``base``, the page's URL."""
    parser = _FormParser(form_id, action)
    parser.feed(html)
    parser.close()
    assert parser.form is not None, f"no form {form_id or action!r} on the page"
    parser.form.action = urljoin(base, parser.form.action)
    return parser.form


class _FormParser(HTMLParser):
    _SKIPPED_INPUTS = frozenset({"submit", "button", "image", "reset", "file"})

    def __init__(self, form_id: str | None, action: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.wanted = (form_id, action)
        self.form: Form | None = None
        self.inside = False
        self.template_depth = 0
        self.select: dict[str, Any] | None = None
        self.option: dict[str, Any] | None = None
        self.textarea: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        form_id, action = self.wanted
        if tag == "form" and self.form is None and (
                (form_id is not None and attr.get("id") == form_id)
                or (action is not None and attr.get("action", "") == action)):
            self.form, self.inside = Form(attr.get("action", ""), []), True
            return
        if not self.inside:
            return
        if tag == "template":
            self.template_depth += 1
        elif tag == "input":
            kind = attr.get("type", "text").lower()
            if kind in self._SKIPPED_INPUTS or (kind in {"checkbox", "radio"}
                                                and "checked" not in attr):
                return
            self._add(attr, attr.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select":
            self.select = {"attr": attr, "options": []}
        elif tag == "option" and self.select is not None:
            self.option = {"value": attr.get("value"), "selected": "selected" in attr,
                           "text": ""}
            self.select["options"].append(self.option)
        elif tag == "textarea":
            self.textarea = {"attr": attr, "text": ""}

    def handle_endtag(self, tag: str) -> None:
        if not self.inside:
            return
        if tag == "form":
            self.inside = False
        elif tag == "template":
            self.template_depth -= 1
        elif tag == "option":
            self.option = None
        elif tag == "select" and self.select is not None:
            options = self.select["options"]
            chosen = [option for option in options if option["selected"]][-1:] or options[:1]
            for option in chosen:
                value = option["value"]
                self._add(self.select["attr"],
                          " ".join(option["text"].split()) if value is None else value)
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            text = self.textarea["text"]
            self._add(self.textarea["attr"], text[1:] if text.startswith("\n") else text)
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.option is not None:
            self.option["text"] += data
        elif self.textarea is not None:
            self.textarea["text"] += data

    def _add(self, attr: dict[str, str], value: str) -> None:
        name = attr.get("name")
        if not name or "disabled" in attr:
            return
        assert self.form is not None
        (self.form.template if self.template_depth else self.form.fields).append((name, value))
